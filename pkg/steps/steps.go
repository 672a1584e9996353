// Package steps is the one executor of kubectl irsa's writes. A write command computes an ordered list of
// steps, each owning the action the plan prints, its write (Do), the reversal of that write (Undo) and its
// read-back check (Verify). The executor applies them in order (under the lock the plan names), verifies each,
// and when a step fails or the run is interrupted rolls back this run's delta, the last write first. Every
// action's status is set from what actually ran, on the step that owns it: no index is kept in step by hand.
package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
)

// Step is one write of a plan.
type Step struct {
	// Action is what the plan prints; its Status is planned (Do runs) or unchanged (Do is nil).
	Action api.Action
	// Do writes the step. It returns ErrUnchanged when it found the change already made (by another run):
	// the action is then unchanged and nothing is undone.
	Do func(ctx context.Context) error
	// Undo reverses only this run's delta of Do (nil: nothing to undo, or cannot be undone). It returns Kept
	// when it deliberately leaves something in place because another run uses it.
	Undo func(ctx context.Context) error
	// UndoWhat names the reversal in messages ("remove ... from ..."); the action's detail when empty.
	UndoWhat string
	// Verify reads the write back (nil: Do reads back itself, or there is nothing to read).
	Verify func(ctx context.Context) error
}

// ErrUnchanged is what Do returns when the change was already there: the action becomes unchanged.
var ErrUnchanged = errors.New("already as wanted")

// ErrInterrupted is the cause of a run stopped by its context (a signal): the steps not taken are left, this
// run's writes rolled back.
var ErrInterrupted = errors.New("interrupted")

// keptError is an undo that deliberately left something in place (another run uses it).
type keptError struct{ why string }

func (e *keptError) Error() string { return e.why }

// Kept is what an Undo returns when it deliberately leaves something in place because another run or role uses
// it; the rollback reports it as kept, not as failed.
func Kept(why string) error { return &keptError{why: why} }

// IsKept reports whether err is a Kept.
func IsKept(err error) bool {
	var k *keptError
	return errors.As(err, &k)
}

// LockFunc runs fn while holding the locks of keys (the role leases); nil runs fn directly.
type LockFunc func(ctx context.Context, keys []string, fn func(context.Context) error) error

// Plan is an ordered list of steps and the locks to hold while applying them.
type Plan struct {
	Steps []*Step
	// LockKeys are held (sorted, so two runs never wait on each other crosswise) around the apply and its
	// rollback.
	LockKeys []string
}

// Add appends steps to the plan.
func (p *Plan) Add(s ...*Step) { p.Steps = append(p.Steps, s...) }

// Actions are the plan's actions with their current statuses, in plan order.
func (p *Plan) Actions() []api.Action {
	out := make([]api.Action, 0, len(p.Steps))
	for _, s := range p.Steps {
		out = append(out, s.Action)
	}
	return out
}

// Changed reports whether any step writes.
func (p *Plan) Changed() bool {
	return slices.ContainsFunc(p.Steps, func(s *Step) bool { return s.Do != nil })
}

// Executor applies plans. One executor may run several plans one after another (migrate); it remembers what
// the running plan has written and not undone, for Left.
type Executor struct {
	// Lock takes the plan's locks (nil: none).
	Lock LockFunc

	mu      sync.Mutex
	running *Plan
}

// Apply runs the plan. A dry run writes nothing and leaves every action planned. Steps whose Do is nil are
// unchanged. When a step fails, or ctx is cancelled (an interruption: the step in flight finishes first), the
// steps done are undone in reverse order and the error says what was rolled back, kept, and left to undo by
// hand; the steps never reached are failed.
func (e *Executor) Apply(ctx context.Context, p *Plan, dryRun bool) error {
	if dryRun || !p.Changed() {
		if !dryRun {
			for _, s := range p.Steps {
				if s.Action.Status == api.StatusPlanned {
					s.Action.Status = api.StatusUnchanged
				}
			}
		}
		return nil
	}
	e.mu.Lock()
	e.running = p
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.running = nil
		e.mu.Unlock()
	}()
	run := func(ctx context.Context) error { return e.apply(ctx, p) }
	if e.Lock == nil || len(p.LockKeys) == 0 {
		return run(ctx)
	}
	keys := slices.Clone(p.LockKeys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	err := e.Lock(ctx, keys, run)
	if ctx.Err() != nil && !errors.Is(err, ErrInterrupted) && !e.anyRan(p) {
		// interrupted while waiting for the lock: nothing was written
		e.markNotRun(p)
		return fmt.Errorf("%w before any write (nothing was changed): %v", ErrInterrupted, err)
	}
	return err
}

func (e *Executor) anyRan(p *Plan) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.ContainsFunc(p.Steps, func(s *Step) bool {
		return s.Action.Status != api.StatusPlanned && s.Action.Status != api.StatusUnchanged
	})
}

func (e *Executor) markNotRun(p *Plan) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range p.Steps {
		if s.Action.Status == api.StatusPlanned {
			s.Action.Status = api.StatusFailed
		}
	}
}

func (e *Executor) setStatus(s *Step, status string) {
	e.mu.Lock()
	s.Action.Status = status
	e.mu.Unlock()
}

func (e *Executor) apply(ctx context.Context, p *Plan) error {
	for _, s := range p.Steps {
		if s.Do == nil {
			continue
		}
		if ctx.Err() != nil {
			return e.rollback(ctx, p, ErrInterrupted)
		}
		// The step in flight finishes even when the run is interrupted: a write cut in the middle is harder to
		// undo than one finished.
		stepCtx := context.WithoutCancel(ctx)
		err := s.Do(stepCtx)
		switch {
		case errors.Is(err, ErrUnchanged):
			e.setStatus(s, api.StatusUnchanged)
			continue
		case err != nil:
			e.setStatus(s, api.StatusFailed)
			return e.rollback(ctx, p, err)
		}
		e.setStatus(s, api.StatusDone)
		if s.Verify != nil {
			if err := s.Verify(stepCtx); err != nil {
				return e.rollback(ctx, p, fmt.Errorf("%s: %w", s.Action.Resource, err))
			}
		}
	}
	return nil // every step ran: an interruption during the last one leaves a finished run, not a half one
}

// rollback undoes the done steps in reverse order (with a context that is not cancelled: an interrupted run
// must still clean up) and wraps cause with what was rolled back, kept, and left.
func (e *Executor) rollback(ctx context.Context, p *Plan, cause error) error {
	ctx = context.WithoutCancel(ctx)
	var done, kept, failed, left []string
	anyDone := false
	for i := len(p.Steps) - 1; i >= 0; i-- {
		s := p.Steps[i]
		if s.Action.Status != api.StatusDone {
			continue
		}
		anyDone = true
		what := s.undoWhat()
		if s.Undo == nil {
			left = append(left, s.describe())
			continue
		}
		err := s.Undo(ctx)
		switch {
		case IsKept(err):
			kept = append(kept, err.Error())
			e.setStatus(s, api.StatusRolledBack)
		case err != nil:
			failed = append(failed, fmt.Sprintf("%s (%v)", what, awsapi.Short(err)))
		default:
			done = append(done, what)
			e.setStatus(s, api.StatusRolledBack)
		}
	}
	for _, s := range p.Steps {
		if s.Action.Status == api.StatusPlanned {
			e.setStatus(s, api.StatusFailed)
		}
	}
	if !anyDone {
		return fmt.Errorf("%w (nothing was changed)", cause)
	}
	msg := "rolled back: " + strings.Join(done, ", ")
	if len(done) == 0 {
		msg = "nothing rolled back"
	}
	if len(kept) > 0 {
		msg += "; kept: " + strings.Join(kept, ", ")
	}
	if len(left) > 0 {
		msg += "; done and not reversible: " + strings.Join(left, ", ")
	}
	if len(failed) > 0 {
		msg += "; ROLLBACK FAILED, undo by hand: " + strings.Join(failed, ", ")
	}
	return fmt.Errorf("%w; %s", cause, msg)
}

// Running reports whether a plan is being applied (its writes may be in flight).
func (e *Executor) Running() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.running != nil
}

// Left describes what the running plan has written and not undone yet (for an abort by a second signal):
// nothing when no plan runs.
func (e *Executor) Left() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running == nil {
		return nil
	}
	var out []string
	for _, s := range e.running.Steps {
		if s.Action.Status == api.StatusDone {
			out = append(out, s.describe())
		}
	}
	return out
}

func (s *Step) describe() string {
	return s.Action.Op + " " + s.Action.Resource + ": " + s.Action.Detail
}

func (s *Step) undoWhat() string {
	if s.UndoWhat != "" {
		return s.UndoWhat
	}
	return "undo " + s.describe()
}
