package identityset

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadNothingIsAnError: empty stdin, an empty file, a file of comments and a directory without YAML are
// errors (as kubectl apply's "no objects passed"), never an empty, in-sync set.
func TestLoadNothingIsAnError(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.yaml")
	comments := filepath.Join(dir, "comments.yaml")
	noYAML := filepath.Join(dir, "sub")
	for _, f := range []struct{ path, data string }{{empty, ""}, {comments, "# nothing\n---\n"}} {
		if err := os.WriteFile(f.path, []byte(f.data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(noYAML, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, paths := range [][]string{{"-"}, {empty}, {comments}, {noYAML}} {
		docs, err := Load(paths, strings.NewReader(""))
		if err == nil || len(docs) != 0 || !strings.Contains(err.Error(), "no IdentitySet documents") && !strings.Contains(err.Error(), "holds no *.yaml") {
			t.Errorf("%v: %d documents, err %v: want an error", paths, len(docs), err)
		} else {
			t.Logf("%v: %v", paths, err)
		}
	}
}

// TestLoadDirectoryFIFO: a FIFO named *.yaml in a directory is reported, not read (a read would block forever).
func TestLoadDirectoryFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := Load([]string{dir}, nil); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("err %v: want the FIFO named", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Load blocked on a FIFO")
	}
}
