package logclass

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// corpusRow is one row of testdata/public.tsv: a real log line from a public
// issue and the finding id expected for it ("None": no finding at all).
type corpusRow struct {
	expected, sdk, source, line string
	lineNo                      int
}

const (
	corpusFile   = "testdata/public.tsv"
	sharedCorpus = "../../../shared/doctor-corpus/public.tsv"
)

func loadCorpus(tb testing.TB) []corpusRow {
	tb.Helper()
	data, err := os.ReadFile(corpusFile)
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) < 2 || lines[0] != "expected\tsdk_or_tool\tsource\tline" {
		tb.Fatalf("%s: unexpected header %q", corpusFile, lines[0])
	}
	var rows []corpusRow
	for i, l := range lines[1:] {
		parts := strings.SplitN(l, "\t", 4)
		if len(parts) != 4 {
			tb.Fatalf("%s:%d: want 4 tab-separated columns, got %d", corpusFile, i+2, len(parts))
		}
		rows = append(rows, corpusRow{parts[0], parts[1], parts[2], parts[3], i + 2})
	}
	return rows
}

func TestCorpus(t *testing.T) {
	rows := loadCorpus(t)
	if len(rows) != 55 {
		t.Errorf("corpus has %d rows, want 55", len(rows))
	}
	c := &Classifier{}
	pass := 0
	for _, r := range rows {
		got, ok := c.ClassifyLine(r.line)
		gotID := "None"
		if ok {
			gotID = string(got.ID)
		}
		// Scan must agree with ClassifyLine, and the first finding decides.
		var scanned []Finding
		if err := c.Scan(strings.NewReader(r.line+"\n"), func(f Finding) { scanned = append(scanned, f) }); err != nil {
			t.Fatal(err)
		}
		scanID := "None"
		if len(scanned) > 0 {
			scanID = string(scanned[0].ID)
		}
		if gotID != r.expected || scanID != r.expected {
			t.Errorf("%s:%d [%s | %s]: ClassifyLine=%s Scan=%s, want %s\n  line: %.300s\n  finding: %+v",
				corpusFile, r.lineNo, r.sdk, r.source, gotID, scanID, r.expected, r.line, got)
			continue
		}
		pass++
		if ok && (got.Confidence == "" || got.Reason == "" || got.Excerpt == "" || len(got.Excerpt) > 320) {
			t.Errorf("%s:%d [%s]: incomplete finding %+v", corpusFile, r.lineNo, r.sdk, got)
		}
	}
	t.Logf("corpus: %d/%d rows pass", pass, len(rows))
}

// TestCorpusMatchesShared checks testdata/public.tsv is a faithful copy of the
// shared corpus when that folder is present beside the clone.
func TestCorpusMatchesShared(t *testing.T) {
	shared, err := os.ReadFile(sharedCorpus)
	if err != nil {
		t.Skipf("shared corpus not available: %v", err)
	}
	local, err := os.ReadFile(corpusFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shared, local) {
		t.Errorf("%s differs from %s: copy it again", corpusFile, sharedCorpus)
	}
}
