package setup

import (
	"context"
	"fmt"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
)

// Kept is what an undo returns when it deliberately leaves something in place because another run or role uses
// it; the rollback reports it as kept, not as failed.
func Kept(why string) error { return steps.Kept(why) }

// executor is the executor of s's plans, taking the role leases through s.Lock.
func (s *Setup) executor() *steps.Executor {
	e := s.Exec
	if e == nil {
		e = &steps.Executor{}
	}
	if e.Lock == nil && s.Lock != nil {
		e.Lock = s.lockAll
	}
	return e
}

// lockAll takes the lock of every key, in the order given (the executor sorts them), then runs fn.
func (s *Setup) lockAll(ctx context.Context, keys []string, fn func(context.Context) error) error {
	if len(keys) == 0 {
		return fn(ctx)
	}
	return s.Lock(ctx, keys[0], func(ctx context.Context) error { return s.lockAll(ctx, keys[1:], fn) })
}

// apply applies plan with s's executor: the statuses are then on the plan's steps.
func (s *Setup) apply(ctx context.Context, plan *steps.Plan, dryRun bool) error {
	return s.executor().Apply(ctx, plan, dryRun)
}

// interruptedAfterWrites says, when the run was interrupted (ctx cancelled) once every write was done, that the
// change (what) is complete and that the follow-up (listing or restarting the pods that predate it) was skipped.
func interruptedAfterWrites(ctx context.Context, what string) error {
	if ctx.Err() == nil {
		return nil
	}
	return fmt.Errorf("interrupted after every write was done: %s is complete; the pods that predate it were not listed or restarted (re-run the command to list them)", what)
}
