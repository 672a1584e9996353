package logclass

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// mixedLog is genLog's log with multi-line records (Java traces, aws-sdk-go
// "caused by:" lines) and lines longer than a block, so that block
// boundaries fall inside records and long lines.
func mixedLog(t *testing.T) []byte {
	t.Helper()
	base, _ := genLog(40000)
	var b bytes.Buffer
	for i, line := range strings.SplitAfter(base, "\n") {
		b.WriteString(line)
		switch {
		case i%701 == 0:
			b.WriteString("2024-05-01 10:00:00.000 ERROR 1 --- [main] c.e.App : upload failed\n")
			b.WriteString("software.amazon.awssdk.core.exception.SdkClientException: Unable to load credentials from any of the providers in the chain\n")
			for k := range 40 {
				fmt.Fprintf(&b, "\tat com.example.App.frame%d(App.java:%d)\n", k, k)
			}
			b.WriteString("Caused by: software.amazon.awssdk.services.sts.model.StsException: Not authorized to perform sts:AssumeRoleWithWebIdentity (Service: Sts, Status Code: 403)\n")
		case i%9001 == 0:
			b.WriteString("time=x level=error msg=\"WebIdentityErr: failed to retrieve credentials\n")
			b.WriteString("caused by: InvalidIdentityToken: No OpenIDConnect provider found in your account for https://oidc.eks.us-east-1.amazonaws.com/id/ABC\"\n")
		case i%15013 == 0:
			// Longer than a block and than maxLineBytes.
			b.WriteString("botocore.exceptions.NoCredentialsError: Unable to locate credentials " + strings.Repeat("x", 3<<19) + "\n")
			b.WriteString(strings.Repeat("y", 5<<20) + " AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity\n")
		}
	}
	b.WriteString("botocore.exceptions.NoCredentialsError: Unable to locate credentials (no newline at the end)")
	return b.Bytes()
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

func scanStats(t *testing.T, r io.Reader) ([]Finding, Stats) {
	t.Helper()
	var out []Finding
	st, err := (&Classifier{}).ScanStats(r, func(f Finding) { out = append(out, f) })
	if err != nil {
		t.Fatalf("ScanStats: %v", err)
	}
	return out, st
}

// TestScanFileMatchesChunks: a file read from an offset gives the same
// findings, line numbers and line count as the same bytes read in other
// chunks (so other block boundaries), and leaves the file's offset at its
// end.
func TestScanFileMatchesChunks(t *testing.T) {
	data := mixedLog(t)
	name := writeTemp(t, data)
	for _, offset := range []int{0, 12345} {
		t.Run(fmt.Sprint("offset ", offset), func(t *testing.T) {
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Seek(int64(offset), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			file, fst := scanStats(t, f)
			chunks, cst := scanStats(t, &chunkReader{data: data[offset:], n: 64<<10 + 7})
			if len(file) < 100 {
				t.Fatalf("only %d findings", len(file))
			}
			if got, want := fmt.Sprint(file), fmt.Sprint(chunks); got != want {
				t.Errorf("the file's scan differs from the chunked scan: %d vs %d findings, first diff at %d",
					len(file), len(chunks), firstDiff(summary(file), summary(chunks)))
			}
			if fst.Lines != cst.Lines || fst.LongLines != cst.LongLines || fst.LongLines != 4 {
				t.Errorf("stats: file %+v, chunks %+v (want 4 long lines)", fst, cst)
			}
			if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len(data)) {
				t.Errorf("offset after the scan = %d, want %d", pos, len(data))
			}
		})
	}
}

// TestScanFileShrinks: a log truncated while it is scanned (logrotate
// copytruncate) ends the scan without an error or a crash, after the
// findings read before, and leaves no goroutine behind.
func TestScanFileShrinks(t *testing.T) {
	data := mixedLog(t)
	name := writeTemp(t, data)
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	before := runtime.NumGoroutine()
	n := 0
	err = (&Classifier{}).Scan(f, func(Finding) {
		if n++; n == 1 {
			if err := os.Truncate(name, 0); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil {
		t.Errorf("err = %v, want none", err)
	}
	all, _ := scanStats(t, bytes.NewReader(data))
	if n == 0 || n >= len(all) {
		t.Errorf("%d findings, want some of the %d before the truncation", n, len(all))
	}
	noGoroutineLeft(t, before)
}

func TestScanStats(t *testing.T) {
	for _, tc := range []struct {
		name, log string
		want      Stats
	}{
		{"empty", "", Stats{}},
		{"text", "a\nb\n", Stats{Bytes: 4, Lines: 2}},
		{"gzip", "\x1f\x8b\x08\x00rest", Stats{Bytes: 8, Format: "gzip", Decompress: "zcat", Binary: true}},
		{"zstd", "\x28\xb5\x2f\xfdabc\n", Stats{Bytes: 8, Lines: 1, Format: "zstd", Decompress: "zstdcat"}},
		{"bzip2", "BZh91AY&SY\x00rest", Stats{Bytes: 15, Format: "bzip2", Decompress: "bzcat", Binary: true}},
		{"text starting with BZh", "BZhandler: worker started\nall fine\n", Stats{Bytes: 35, Lines: 2}},
		{"xz", "\xfd7zXZ\x00\x00\x04", Stats{Bytes: 8, Format: "xz", Decompress: "xzcat", Binary: true}},
		{"binary", "ELF\x00\x01\x02\n", Stats{Bytes: 7, Lines: 1, Binary: true}},
		{"NUL after a first text line", "starting app\n" + strings.Repeat("\x00", 50) + "\nI ok\n", Stats{Bytes: 69, Lines: 3, Binary: true}},
		{"long line", strings.Repeat("z", 3<<20) + "\nok\n", Stats{Bytes: 3<<20 + 4, Lines: 2, LongLines: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := scanStats(t, strings.NewReader(tc.log))
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			// Read one byte at a time (a slow stream: every line its own block), the verdict is the same.
			_, got = scanStats(t, iotest.OneByteReader(strings.NewReader(tc.log)))
			if got.Format != tc.want.Format || got.Binary != tc.want.Binary {
				t.Errorf("one byte at a time: got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestScanLongLineBoundary: a line of exactly maxLineBytes is whole, one byte more is long, whether read as a
// file or a stream (in small reads too: linear time), and an unterminated last line under the bound is whole.
func TestScanLongLineBoundary(t *testing.T) {
	finding := "botocore.exceptions.NoCredentialsError: Unable to locate credentials"
	line := func(n int) string { return finding + strings.Repeat("x", n-len(finding)) + "\n" }
	log := strings.Repeat("ok\n", 2<<20) + // 6 MiB of short lines
		line(maxLineBytes-1) + line(maxLineBytes) + line(maxLineBytes+1) + line(maxLineBytes+2) +
		finding + strings.Repeat("y", 700<<10) // unterminated, longer than a block, under the bound
	// Every byte is classified (the two long lines in windows); Lines counts newlines.
	want := Stats{Bytes: int64(len(log)), Lines: 2<<20 + 4, LongLines: 2}
	tail := log[len(log)-(5<<20):]
	f, err := os.Open(writeTemp(t, []byte(log)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	readers := map[string]io.Reader{
		"file":     f,
		"stream":   strings.NewReader(log),
		"4 KiB":    &chunkReader{data: []byte(log), n: 4 << 10},
		"one byte": iotest.OneByteReader(strings.NewReader(tail)),
	}
	for name, r := range readers {
		t.Run(name, func(t *testing.T) {
			found, got := scanStats(t, r)
			w := want
			if name == "one byte" { // the tail only: as the same bytes read whole
				_, w = scanStats(t, strings.NewReader(tail))
				if w.LongLines != 2 {
					t.Errorf("tail read whole: %+v", w)
				}
			}
			if got != w {
				t.Errorf("stats %+v, want %+v", got, w)
			}
			if len(found) != 5 {
				t.Errorf("%d findings, want one per line: %v", len(found), summary(found))
			}
		})
	}
}

// TestScanLongLineWindows: a line longer than maxLineBytes is classified
// whole: a message after its first MiB, across the end of its first window
// or at its very end is found and numbered as the line, from a file or not,
// once each, and the lines after it keep their numbers and records.
func TestScanLongLineWindows(t *testing.T) {
	denied := "AccessDenied: User: arn:aws:sts::123456789012:assumed-role/app-role/s1 is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k"
	noCreds := "botocore.exceptions.NoCredentialsError: Unable to locate credentials"
	var b strings.Builder
	b.WriteString(strings.Repeat("ok\n", 2<<20)) // 6 MiB of short lines
	// Line 2<<20+1: 5 MiB; the denial straddles the first window's end, the
	// missing credentials are after 3 MiB and at the line's end.
	long := []byte(strings.Repeat("{\"k\":\"v\"} ", (5<<20)/10))
	copy(long[maxLineBytes-len(denied)/2:], denied+" ")
	copy(long[3<<20:], noCreds+" ")
	b.Write(long)
	b.WriteString(noCreds + "\n")
	// A line after it, indented: a continuation of the long line's record.
	b.WriteString("  caused by: " + denied + "\n")
	b.WriteString(strings.Repeat("z", 3<<20) + " " + denied) // unterminated, long
	log := b.String()
	first := 2<<20 + 1
	want := fmt.Sprint([]idLine{{PermissionMissing, first}, {NoCredentials, first}, {PermissionMissing, first + 2}})
	f, err := os.Open(writeTemp(t, []byte(log)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, r := range map[string]io.Reader{
		"file":   f,
		"stream": strings.NewReader(log),
		"4 KiB":  &chunkReader{data: []byte(log), n: 4 << 10},
	} {
		t.Run(name, func(t *testing.T) {
			found, st := scanStats(t, r)
			if got := fmt.Sprint(summary(found)); got != want {
				t.Errorf("findings %s, want %s", got, want)
				for _, f := range found {
					t.Logf("%+v", f)
				}
			}
			if st.LongLines != 2 || st.Bytes != int64(len(log)) || st.Lines != first+1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}
