package plugin

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIdentityFilesLoad: problems are printed one per line, escaped (a file is hostile input), and become exit 2.
func TestIdentityFilesLoad(t *testing.T) {
	file := filepath.Join(t.TempDir(), "set.yaml")
	content := "apiVersion: irsa.kubectl-irsa.io/v1alpha1\nkind: IdentitySet\nmetadata: {name: s}\nspec:\n  roles:\n    - name: r\n      serviceAccounts: [app/a]\n      \"\\e[31mred\": 1\n      mechanism: lambda\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	f := IdentityFiles{Paths: []string{file}}
	_, err := f.Load(nil, &errOut)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != InvalidIdentityFileExitCode {
		t.Fatalf("err = %v, want exit %d", err, InvalidIdentityFileExitCode)
	}
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 problem lines, got:\n%s", errOut.String())
	}
	if strings.ContainsRune(errOut.String(), '\x1b') {
		t.Errorf("an escape character reached the terminal: %q", errOut.String())
	}
	for _, want := range []string{"set.yaml: document 1: spec.roles[0]", "unknown field", "spec.roles[0].mechanism"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}

	good := filepath.Join(t.TempDir(), "good.yaml")
	if err := os.WriteFile(good, []byte(strings.Replace(strings.Replace(content, "lambda", "irsa", 1), "      \"\\e[31mred\": 1\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	docs, err := (&IdentityFiles{Paths: []string{good}}).Load(nil, &errOut)
	if err != nil || len(docs) != 1 || errOut.Len() != 0 {
		t.Errorf("good file: %d documents, %v, stderr %q", len(docs), err, errOut.String())
	}
}
