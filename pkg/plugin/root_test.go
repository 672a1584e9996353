package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func run(args ...string) (stdout, stderr string, code int) {
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	cmd := NewCmdIRSA(streams)
	cmd.SetArgs(args)
	code = Execute(cmd, streams)
	return out.String(), errOut.String(), code
}

func TestVersionJSON(t *testing.T) {
	out, _, code := run("version", "-o", "json")
	var v map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["kind"] != "Version" || v["version"] == "" || v["commit"] == "" {
		t.Errorf("version -o json: code %d, %s", code, out)
	}
	out, _, _ = run("version")
	if !strings.HasPrefix(out, "kubectl irsa ") {
		t.Errorf("version = %q", out)
	}
}

func TestErrorsAreOneLine(t *testing.T) {
	_, errOut, code := run("link", "Bad_Name", "-n", "default")
	if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "error: invalid ServiceAccount name") {
		t.Errorf("code %d stderr %q", code, errOut)
	}
	_, errOut, code = run("version", "-o", "xml")
	if code != 2 || !strings.Contains(errOut, "unsupported output format") {
		t.Errorf("code %d stderr %q", code, errOut)
	}
}

func TestExitErrorCode(t *testing.T) {
	streams, _, _, errOut := genericiooptions.NewTestIOStreams()
	cmd := NewCmdIRSA(streams)
	cmd.SetArgs([]string{"doctor", "--logs-file", "/nonexistent/file"})
	if code := Execute(cmd, streams); code != 2 || !strings.Contains(errOut.String(), "cannot read --logs-file") {
		t.Errorf("doctor with an unreadable file: code %d, %s", code, errOut)
	}
	// An ExitError wrapped by another error still sets the exit code, and its message is the one line.
	streams, _, _, errOut = genericiooptions.NewTestIOStreams()
	wrapped := &cobra.Command{Use: "x", SilenceErrors: true, SilenceUsage: true, RunE: func(*cobra.Command, []string) error {
		return fmt.Errorf("wrapped: %w", &ExitError{Code: 3, Err: errors.New("inner")})
	}}
	wrapped.SetArgs(nil)
	if code := Execute(wrapped, streams); code != 3 || errOut.String() != "error: wrapped: inner\n" {
		t.Errorf("wrapped ExitError: code %d, stderr %q", code, errOut)
	}
}

func TestDoctorLogsOnlyFromStdin(t *testing.T) {
	streams, in, out, _ := genericiooptions.NewTestIOStreams()
	in.WriteString("User: arn:aws:sts::123456789012:assumed-role/eks-node/i-0123456789abcdef0 is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::b\n")
	cmd := NewCmdIRSA(streams)
	cmd.SetArgs([]string{"doctor", "--logs-file", "-", "-o", "json", "--kubeconfig", "/nonexistent"})
	if code := Execute(cmd, streams); code != 1 || !bytes.Contains(out.Bytes(), []byte(`"NodeRoleFallback"`)) {
		t.Errorf("code %d out %s", code, out)
	}
}

func TestVerbosityCap(t *testing.T) {
	_, errOut, _ := run("version", "-v=9")
	if !strings.Contains(errOut, "-v=9 lowered to 7") {
		t.Errorf("stderr = %q", errOut)
	}
}
