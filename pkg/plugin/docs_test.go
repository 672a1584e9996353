package plugin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDocsUpToDate regenerates the command reference with hack/docs (what `make docs` runs) and fails when
// docs/commands differs: a new or changed command, flag or help text needs `make docs`.
func TestDocsUpToDate(t *testing.T) {
	const committed = "../../docs/commands"
	fresh := t.TempDir()
	cmd := exec.Command("go", "run", "github.com/kubectl-irsa/kubectl-irsa/hack/docs", "-dir", fresh)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run ./hack/docs: %v\n%s", err, stderr.String())
	}

	want := markdownFiles(t, fresh)
	have := markdownFiles(t, committed)
	var problems []string
	for name, content := range want {
		old, ok := have[name]
		switch {
		case !ok:
			problems = append(problems, "missing  docs/commands/"+name)
		case old != content:
			problems = append(problems, "stale    docs/commands/"+name+firstDifference(old, content))
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			problems = append(problems, "obsolete docs/commands/"+name+" (no such command any more)")
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		t.Fatalf("the command reference in docs/commands does not match the commands: run `make docs` and commit docs/commands.\n  %s",
			strings.Join(problems, "\n  "))
	}
}

func markdownFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = string(data)
	}
	return files
}

// firstDifference describes the first line that differs, so the failure shows what changed.
func firstDifference(old, fresh string) string {
	a, b := strings.Split(old, "\n"), strings.Split(fresh, "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf("\n      line %d committed: %q\n      line %d generated: %q", i+1, x, i+1, y)
		}
	}
	return ""
}
