package plugin

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/entry"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
)

// interrupts turns SIGINT and SIGTERM into the cancellation of the command's context: a write command's
// executor then finishes the step in flight, rolls back this run's writes and says what it undid and what is
// left (exit 130 for SIGINT, 143 for SIGTERM). A second signal aborts at once, printing what is left.
type interrupts struct {
	exec   *steps.Executor
	errOut io.Writer
	// exit ends the process on a second signal (os.Exit).
	exit func(code int)

	mu  sync.Mutex
	sig os.Signal
	// atOnce: the command has nothing to finish or undo (a logs-only doctor), so the first signal ends the
	// process, as the plugin's entry ends the same run.
	atOnce bool
}

// stopAtOnce makes the first signal end the process at once (128+n, after the "stopping" line): for a run that
// only reads and has printed nothing yet, whose reads (a FIFO's open, a scan of stdin) may not watch the
// context. No-op outside Execute.
func stopAtOnce(ctx context.Context) {
	if in, ok := ctx.Value(interruptsKey{}).(*interrupts); ok {
		in.mu.Lock()
		in.atOnce = true
		in.mu.Unlock()
	}
}

type interruptsKey struct{}

// executorFrom is the executor the signal handler watches, when the command runs under Execute (nil otherwise:
// the write side then makes its own).
func executorFrom(ctx context.Context) *steps.Executor {
	if in, ok := ctx.Value(interruptsKey{}).(*interrupts); ok {
		return in.exec
	}
	return nil
}

// watch returns a context cancelled by the first signal; stop ends the watch.
func (in *interrupts) watch(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.WithValue(parent, interruptsKey{}, in))
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-signals:
				in.mu.Lock()
				first := in.sig == nil
				if first {
					in.sig = s
				}
				atOnce := in.atOnce
				in.mu.Unlock()
				if first {
					if in.exec.Running() {
						fmt.Fprintf(in.errOut, "interrupted (%s): finishing the step in flight, then rolling back this run's changes (none if that step was the last: the run then completes); interrupt again to abort at once\n", s)
					} else {
						entry.PrintStopping(in.errOut, s)
					}
					if atOnce {
						in.exit(entry.SignalStatus(s))
						return
					}
					cancel()
					continue
				}
				left := in.exec.Left()
				msg := "aborted: nothing of this run is left to undo"
				if len(left) > 0 {
					msg = "aborted: left as written by this run (re-run the command to complete it, or undo by hand): " + strings.Join(left, "; ")
				}
				fmt.Fprintf(in.errOut, "error: %s\n", safetext.String(msg))
				in.exit(entry.SignalStatus(s))
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(signals)
		close(done)
		cancel()
	}
}

// received is the first signal received (nil: none).
func (in *interrupts) received() os.Signal {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.sig
}
