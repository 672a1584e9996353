package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
)

// Undo collects the reversal of each write of a run, so a failed run can roll back what it changed.
type Undo struct {
	steps []undoStep
}

type undoStep struct {
	what string
	do   func(context.Context) error
}

// Push records how to reverse the write just made.
func (u *Undo) Push(what string, do func(context.Context) error) {
	u.steps = append(u.steps, undoStep{what, do})
}

// Rollback reverses every recorded write, the last first, and wraps cause with what was rolled back and what
// could not be (which the user must then clean up by hand).
func (u *Undo) Rollback(ctx context.Context, cause error) error {
	if len(u.steps) == 0 {
		return fmt.Errorf("%w (nothing was changed)", cause)
	}
	var done, failed, kept []string
	for i := len(u.steps) - 1; i >= 0; i-- {
		s := u.steps[i]
		var k *keptError
		if err := s.do(ctx); errors.As(err, &k) {
			kept = append(kept, k.why)
		} else if err != nil {
			failed = append(failed, fmt.Sprintf("%s (%v)", s.what, awsapi.Short(err)))
		} else {
			done = append(done, s.what)
		}
	}
	u.steps = nil
	msg := "rolled back: " + strings.Join(done, ", ")
	if len(done) == 0 {
		msg = "nothing rolled back"
	}
	if len(kept) > 0 {
		msg += "; kept: " + strings.Join(kept, ", ")
	}
	if len(failed) > 0 {
		msg += "; ROLLBACK FAILED, undo by hand: " + strings.Join(failed, ", ")
	}
	return fmt.Errorf("%w; %s", cause, msg)
}

// keptError is an undo step that deliberately left something in place (another run uses it).
type keptError struct{ why string }

func (e *keptError) Error() string { return e.why }

// Kept is what an undo step returns when it deliberately leaves something in place because another run or role
// uses it; Rollback reports it as kept, not as failed.
func Kept(why string) error { return &keptError{why: why} }

// fail rolls back every write of the run and marks the result: what was done is rolled back, what was still
// planned failed.
func (u *Undo) fail(ctx context.Context, res *api.Result, cause error) (*api.Result, error) {
	err := u.Rollback(context.WithoutCancel(ctx), cause)
	res.MarkAll(api.StatusDone, api.StatusRolledBack)
	res.MarkAll(api.StatusPlanned, api.StatusFailed)
	return res, err
}
