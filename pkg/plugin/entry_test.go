package plugin

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/entry"
)

// TestEntryMatchesFullCLI: every command line the plugin's entry serves itself (a logs-only doctor) prints the
// same bytes on stdout and stderr, with the same exit status, as the full CLI's doctor, on real-shaped logs
// and on each way a log can be unusable.
func TestEntryMatchesFullCLI(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var corpus strings.Builder
	for _, f := range []string{"../logclass/testdata/public.tsv", "../logclass/testdata/sdk_lines.tsv"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range strings.Split(string(b), "\n")[1:] {
			if fields := strings.Split(row, "\t"); len(fields) == 4 {
				fmt.Fprintf(&corpus, "%s\n  at line %d\n", fields[3], corpus.Len())
			}
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(corpus.String()))
	zw.Close()
	logs := map[string]string{
		"corpus": write("corpus.log", corpus.String()),
		"clean":  write("clean.log", strings.Repeat(`{"level":"info","msg":"reconciled"}`+"\n", 1000)),
		"empty":  write("empty.log", ""),
		"gzip":   write("app.log.gz", gz.String()),
		"binary": write("app.bin", "\x7fELF\x02\x01\x01\x00\x00\x00"),
		"long":   write("long.log", strings.Repeat("x", 3<<20)+"\nNoCredentialProviders: no valid providers in chain\n"),
		// A name with a terminal escape and a key: both masked in the report.
		"hostile name": write("app\x1b[31m-AKIAIOSFODNN7EXAMPLE.log", "botocore.exceptions.NoCredentialsError: Unable to locate credentials\n"),
		"directory":    dir, // opens, then fails to read: "diagnosis could not run"
	}
	forms := [][]string{
		{"--logs-file", "FILE"},
		{"--logs-file=FILE", "-o", "json"},
		{"-ojson", "--logs-file", "FILE"},
		{"--logs-file", "FILE", "--output=json"},
		{"-o=json", "--logs-file=FILE"},
	}
	for name, file := range logs {
		for _, form := range forms {
			args := []string{"doctor"}
			for _, a := range form {
				args = append(args, strings.ReplaceAll(a, "FILE", file))
			}
			t.Run(name+" "+strings.Join(form, " "), func(t *testing.T) {
				req, ok := entry.Parse(args)
				if !ok {
					t.Fatalf("entry does not serve %q", args)
				}
				var eOut, eErr bytes.Buffer
				eCode, served := entry.Run(req, entry.Streams{In: strings.NewReader(""), Out: &eOut, ErrOut: &eErr})
				if !served {
					t.Fatalf("entry did not serve %q", args)
				}
				streams, _, out, errOut := genericiooptions.NewTestIOStreams()
				cmd := NewCmdIRSA(streams)
				cmd.SetArgs(args)
				code := Execute(cmd, streams)
				if eCode != code || eOut.String() != out.String() || eErr.String() != errOut.String() {
					t.Errorf("entry: exit %d, stderr %q, stdout\n%s\nfull CLI: exit %d, stderr %q, stdout\n%s", eCode, eErr.String(), eOut.String(), code, errOut.String(), out.String())
				}
				if name == "corpus" && (code != 1 || strings.Count(out.String(), "error") < 10) {
					t.Errorf("the corpus gave exit %d and few findings:\n%s", code, out)
				}
			})
		}
	}

	// stdin (-) is served too.
	streams, in, out, errOut := genericiooptions.NewTestIOStreams()
	in.WriteString(corpus.String())
	cmd := NewCmdIRSA(streams)
	cmd.SetArgs([]string{"doctor", "--logs-file", "-", "-o", "json"})
	code := Execute(cmd, streams)
	var eOut, eErr bytes.Buffer
	eCode, served := entry.Run(entry.Request{LogsFile: "-", JSON: true}, entry.Streams{In: strings.NewReader(corpus.String()), Out: &eOut, ErrOut: &eErr})
	if !served || eCode != code || eOut.String() != out.String() || eErr.String() != errOut.String() {
		t.Errorf("stdin: entry exit %d served %v, full CLI exit %d; outputs equal: %v", eCode, served, code, eOut.String() == out.String())
	}

	// A log that cannot be opened is left to the full CLI, which says why.
	if _, served := entry.Run(entry.Request{LogsFile: filepath.Join(dir, "missing.log")}, entry.Streams{Out: &eOut, ErrOut: &eErr}); served {
		t.Error("entry served a log it cannot open")
	}
}
