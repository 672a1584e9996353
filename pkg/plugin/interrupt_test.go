package plugin

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
)

// lockedBuffer is a bytes.Buffer safe for the signal goroutine's writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestInterruptSaysWhatItStops: a signal while no plan runs (validation, reads) does not claim a rollback; one
// during a write does.
func TestInterruptSaysWhatItStops(t *testing.T) {
	for _, writing := range []bool{false, true} {
		var errOut lockedBuffer
		in := &interrupts{exec: &steps.Executor{}, errOut: &errOut, exit: func(int) { t.Error("exit on the first signal") }}
		ctx, stop := in.watch(context.Background())
		applied := make(chan error, 1)
		started := make(chan struct{})
		if writing {
			// The step in flight is finished with a context the signal does not cancel: it waits for the
			// command's.
			step := &steps.Step{Action: api.Action{Op: "update", Resource: "role r", Status: api.StatusPlanned},
				Do: func(context.Context) error { close(started); <-ctx.Done(); return nil }}
			go func() { applied <- in.exec.Apply(ctx, &steps.Plan{Steps: []*steps.Step{step}}, false) }()
			<-started
		}
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the signal did not cancel the context")
		}
		if writing {
			<-applied
		}
		stop()
		got := errOut.String()
		if rollback := strings.Contains(got, "rolling back"); rollback != writing {
			t.Errorf("writing=%v: %q", writing, got)
		}
		if !strings.HasPrefix(got, "interrupted (terminated)") {
			t.Errorf("writing=%v: %q does not name the signal", writing, got)
		}
	}
}

// TestInterruptStopsAtOnce: a run that only reads (a logs-only doctor) ends at the first signal with 128+n and
// the "stopping" line, as the plugin's entry ends the same run, not after reading its input to the end.
func TestInterruptStopsAtOnce(t *testing.T) {
	var errOut lockedBuffer
	exited := make(chan int, 1)
	in := &interrupts{exec: &steps.Executor{}, errOut: &errOut, exit: func(code int) { exited <- code }}
	ctx, stop := in.watch(context.Background())
	defer stop()
	stopAtOnce(ctx)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		if code != 130 || errOut.String() != "interrupted (interrupt): stopping\n" {
			t.Errorf("exit %d, stderr %q", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first signal did not end the run")
	}
}
