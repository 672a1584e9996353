package plugin

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunForwardingPassesSignals: SIGTERM sent to the plugin reaches the child, which is waited for.
func TestRunForwardingPassesSignals(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "got")
	cmd := exec.Command("sh", "-c", `trap 'echo TERM > "$0"; exit 7' TERM; echo ready; while :; do sleep 0.05; done`, marker)
	var out bytes.Buffer
	cmd.Stdout = &out
	done := make(chan error, 1)
	go func() { done <- runForwarding(context.Background(), cmd) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "ready") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var exit *ExitError
		if !asExit(err, &exit) || exit.Code != 7 {
			t.Errorf("err = %v, want the child's exit 7", err)
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("child not stopped by the forwarded SIGTERM")
	}
	if b, _ := os.ReadFile(marker); strings.TrimSpace(string(b)) != "TERM" {
		t.Errorf("child did not get SIGTERM: %q", b)
	}
}

func asExit(err error, target **ExitError) bool {
	e, ok := err.(*ExitError)
	*target = e
	return ok
}
