package setup

import (
	"context"
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
	var done, failed []string
	for i := len(u.steps) - 1; i >= 0; i-- {
		s := u.steps[i]
		if err := s.do(ctx); err != nil {
			failed = append(failed, fmt.Sprintf("%s (%v)", s.what, awsapi.Short(err)))
		} else {
			done = append(done, s.what)
		}
	}
	u.steps = nil
	if len(failed) > 0 {
		return fmt.Errorf("%w; rolled back: %s; ROLLBACK FAILED, undo by hand: %s", cause, strings.Join(done, ", "), strings.Join(failed, ", "))
	}
	return fmt.Errorf("%w; rolled back: %s", cause, strings.Join(done, ", "))
}

// fail rolls back every write of the run and marks the result: what was done is rolled back, what was still
// planned failed.
func (u *Undo) fail(ctx context.Context, res *api.Result, cause error) (*api.Result, error) {
	err := u.Rollback(context.WithoutCancel(ctx), cause)
	res.MarkAll(api.StatusDone, api.StatusRolledBack)
	res.MarkAll(api.StatusPlanned, api.StatusFailed)
	return res, err
}
