package plugin

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestDoctorLogsFileWhatWasRead: doctor --logs-file says when a log could not be classified (compressed,
// not text: exit 2, never clean) or not whole (empty, over-long lines: a note), and a big file (scanned
// through a mapping) reports what the same log piped in reports.
func TestDoctorLogsFileWhatWasRead(t *testing.T) {
	denied := "User: arn:aws:sts::123456789012:assumed-role/eks-node/i-0123456789abcdef0 is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::b\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(denied))
	zw.Close()
	big := strings.Repeat(`{"level":"info","msg":"reconciled","object":"default/app"}`+"\n", 100000) + denied
	for _, tc := range []struct {
		name, log string
		code      int
		want      []string
	}{
		{"gzip", gz.String(), 2, []string{"could not check", ": it is gzip-compressed; decompress it first (e.g. zcat)"}},
		{"binary", "\x7fELF\x02\x01\x01\x00\x00\x00", 2, []string{"could not check", ": it is not a text log"}},
		{"empty", "", 0, []string{"is empty: no log line was classified"}},
		{"long line", strings.Repeat("x", 3<<20) + "\n", 0, []string{"1 line(s) of", "longer than 1 MiB were classified in 1 MiB windows"}},
		// The denial lies after the first MiB of a 3 MiB line (and after 4 MiB of the file).
		{"match after the first MiB of a line", strings.Repeat("ok\n", 4<<19) + strings.Repeat("x ", 1<<20) + denied[:len(denied)-1] + strings.Repeat(" x", 1<<19) + "\n", 1,
			[]string{`"NodeRoleFallback"`, "log line 2097153: x x", "assumed-role/eks-node/i-0123456789abcdef0 is not authorized", "longer than 1 MiB were classified in 1 MiB windows"}},
		{"big file", big, 1, []string{`"NodeRoleFallback"`, "log line 100001: User: arn:aws:sts::123456789012:assumed-role/eks-node"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "app.log")
			if err := os.WriteFile(file, []byte(tc.log), 0o600); err != nil {
				t.Fatal(err)
			}
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			cmd := NewCmdIRSA(streams)
			cmd.SetArgs([]string{"doctor", "--logs-file", file, "-o", "json"})
			if code := Execute(cmd, streams); code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tc.code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.name != "big file" && tc.name != "match after the first MiB of a line" {
				return
			}
			// The same log piped in (read as a stream) gives the same report.
			streams, in, piped, _ := genericiooptions.NewTestIOStreams()
			in.WriteString(tc.log)
			cmd = NewCmdIRSA(streams)
			cmd.SetArgs([]string{"doctor", "--logs-file", "-", "-o", "json"})
			Execute(cmd, streams)
			if got, want := strings.ReplaceAll(out.String(), file, "stdin"), piped.String(); got != want {
				t.Errorf("file and stdin reports differ:\n%s\n%s", got, want)
			}
		})
	}
}

// TestDoctorLogsFileErrors: an empty --logs-file is a usage error; a log that cannot be read is a run that could
// not complete (exit 2), without the usage error's pointer to --help.
func TestDoctorLogsFileErrors(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		want     string
		wantHelp bool
	}{
		{[]string{"doctor", "--logs-file="}, "--logs-file needs a file name", true},
		{[]string{"doctor", "--logs-file", "/nonexistent/app.log"}, "cannot read --logs-file", false},
		{[]string{"doctor", "--logs-file", t.TempDir()}, "is a directory", false},
	} {
		streams, _, _, errOut := genericiooptions.NewTestIOStreams()
		cmd := NewCmdIRSA(streams)
		cmd.SetArgs(append(tc.args, "--kubeconfig", "/nonexistent"))
		code := Execute(cmd, streams)
		if code != 2 || !strings.Contains(errOut.String(), tc.want) || strings.Contains(errOut.String(), "--help") != tc.wantHelp {
			t.Errorf("%v: exit %d, stderr %q (want %q, pointer to --help %v)", tc.args, code, errOut, tc.want, tc.wantHelp)
		}
	}
}

// TestDoctorLogsFileNameMasked: a key id in the log's file name is masked in -o json too (the report's scope,
// checked and notes carry the name).
func TestDoctorLogsFileNameMasked(t *testing.T) {
	file := filepath.Join(t.TempDir(), "AKIAIOSFODNN7EXAMPLE.log")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	cmd := NewCmdIRSA(streams)
	cmd.SetArgs([]string{"doctor", "--logs-file", file, "-o", "json"})
	Execute(cmd, streams)
	if strings.Contains(out.String(), "AKIAIOSFODNN7EXAMPLE") || !strings.Contains(out.String(), "is empty") {
		t.Errorf("output:\n%s", out)
	}
}
