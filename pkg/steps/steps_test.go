package steps

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
)

// world is a fake state the steps write: a set of names.
type world struct {
	have []string
	log  []string
}

func (w *world) add(name string) *Step {
	return &Step{
		Action: api.Action{Op: "+", Resource: name, Detail: "create " + name, Status: api.StatusPlanned},
		Do: func(context.Context) error {
			if slices.Contains(w.have, name) {
				return ErrUnchanged
			}
			w.have = append(w.have, name)
			w.log = append(w.log, "do "+name)
			return nil
		},
		Undo: func(context.Context) error {
			w.have = slices.DeleteFunc(w.have, func(s string) bool { return s == name })
			w.log = append(w.log, "undo "+name)
			return nil
		},
		UndoWhat: "delete " + name,
	}
}

func failing(name string, err error) *Step {
	return &Step{Action: api.Action{Op: "~", Resource: name, Detail: "change " + name, Status: api.StatusPlanned},
		Do: func(context.Context) error { return err }}
}

func statuses(p *Plan) map[string]string {
	out := map[string]string{}
	for _, a := range p.Actions() {
		out[a.Resource] = a.Status
	}
	return out
}

// TestStatusesFollowStepsNotIndices: the same steps in two orders; each action's status is what its own step
// did, whichever position it has.
func TestStatusesFollowStepsNotIndices(t *testing.T) {
	for _, order := range [][]string{{"a", "b", "unchanged"}, {"unchanged", "b", "a"}, {"b", "unchanged", "a"}} {
		w := &world{have: []string{"a"}} // "a" exists already: its Do reports unchanged at run time
		byName := map[string]*Step{
			"a":         w.add("a"),
			"b":         w.add("b"),
			"unchanged": {Action: api.Action{Op: "=", Resource: "unchanged", Detail: "as wanted", Status: api.StatusUnchanged}},
		}
		p := &Plan{}
		for _, n := range order {
			p.Add(byName[n])
		}
		if err := (&Executor{}).Apply(context.Background(), p, false); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"a": api.StatusUnchanged, "b": api.StatusDone, "unchanged": api.StatusUnchanged}
		if got := statuses(p); !maps.Equal(got, want) {
			t.Errorf("order %v: statuses %v, want %v", order, got, want)
		}
		if got := p.Actions(); got[0].Resource != order[0] || got[2].Resource != order[2] {
			t.Errorf("order %v: actions not in plan order: %v", order, got)
		}
	}
}

// TestRollbackInReverse: a failing step rolls back the done ones, the last first; statuses say so.
func TestRollbackInReverse(t *testing.T) {
	for _, swap := range []bool{false, true} {
		w := &world{}
		a, b := w.add("a"), w.add("b")
		if swap {
			a, b = b, a
		}
		p := &Plan{Steps: []*Step{a, b, failing("c", errors.New("boom")), w.add("d")}}
		err := (&Executor{}).Apply(context.Background(), p, false)
		if err == nil || !strings.Contains(err.Error(), "boom; rolled back: delete "+b.Action.Resource+", delete "+a.Action.Resource) {
			t.Fatalf("error %v", err)
		}
		if len(w.have) != 0 {
			t.Errorf("left %v", w.have)
		}
		want := map[string]string{"a": api.StatusRolledBack, "b": api.StatusRolledBack, "c": api.StatusFailed, "d": api.StatusFailed}
		if got := statuses(p); !maps.Equal(got, want) {
			t.Errorf("statuses %v, want %v", got, want)
		}
		if w.log[2] != "undo "+b.Action.Resource || w.log[3] != "undo "+a.Action.Resource {
			t.Errorf("undo order %v", w.log)
		}
	}
}

// TestFailedUndoIsReportedForHand: an undo that fails is named as left to undo by hand, and its action stays
// done; a Kept undo is reported as kept.
func TestFailedUndoIsReportedForHand(t *testing.T) {
	w := &world{}
	a := w.add("a")
	a.Undo = func(context.Context) error { return errors.New("AccessDenied") }
	k := w.add("k")
	k.Undo = func(context.Context) error { return Kept("k: another run uses it") }
	p := &Plan{Steps: []*Step{a, k, failing("c", errors.New("boom"))}}
	err := (&Executor{}).Apply(context.Background(), p, false)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"boom", "nothing rolled back", "kept: k: another run uses it", "ROLLBACK FAILED, undo by hand: delete a (AccessDenied)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	want := map[string]string{"a": api.StatusDone, "k": api.StatusRolledBack, "c": api.StatusFailed}
	if got := statuses(p); !maps.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

// TestNothingChangedOnFirstFailure: a failure before any write says nothing was changed.
func TestNothingChangedOnFirstFailure(t *testing.T) {
	w := &world{}
	p := &Plan{Steps: []*Step{failing("c", errors.New("boom")), w.add("a")}}
	err := (&Executor{}).Apply(context.Background(), p, false)
	if err == nil || err.Error() != "boom (nothing was changed)" {
		t.Fatalf("error %v", err)
	}
}

// TestDryRunWritesNothing and a plan without writes marks its actions unchanged.
func TestDryRunWritesNothing(t *testing.T) {
	w := &world{}
	p := &Plan{Steps: []*Step{w.add("a")}}
	if err := (&Executor{}).Apply(context.Background(), p, true); err != nil || len(w.log) > 0 || p.Steps[0].Action.Status != api.StatusPlanned {
		t.Fatalf("dry run: %v %v %v", err, w.log, p.Actions())
	}
}

// TestInterruptFinishesStepThenRollsBack: a cancellation during a step lets it finish, takes no further step,
// and rolls back what was done; Left names what is written while the run is in flight.
func TestInterruptFinishesStepThenRollsBack(t *testing.T) {
	w := &world{}
	ctx, cancel := context.WithCancel(context.Background())
	ex := &Executor{}
	var leftDuring []string
	a := w.add("a")
	b := w.add("b")
	inner := b.Do
	b.Do = func(c context.Context) error {
		leftDuring = ex.Left()
		cancel() // the signal arrives while b runs
		if c.Err() != nil {
			t.Error("the step in flight saw the cancellation")
		}
		return inner(c)
	}
	p := &Plan{Steps: []*Step{a, b, w.add("c")}}
	err := ex.Apply(ctx, p, false)
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "rolled back: delete b, delete a") {
		t.Fatalf("error %v", err)
	}
	if len(w.have) != 0 || slices.Contains(w.log, "do c") {
		t.Errorf("have %v log %v", w.have, w.log)
	}
	if len(leftDuring) != 1 || leftDuring[0] != "+ a: create a" {
		t.Errorf("Left during b: %v", leftDuring)
	}
	if ex.Left() != nil {
		t.Errorf("Left after the run: %v", ex.Left())
	}
}

// TestLockHeldAroundApplyAndRollback: the plan's keys are locked sorted and deduplicated, and the rollback runs
// inside the lock.
func TestLockHeldAroundApplyAndRollback(t *testing.T) {
	w := &world{}
	var keys []string
	inside := false
	ex := &Executor{Lock: func(ctx context.Context, k []string, fn func(context.Context) error) error {
		keys = k
		inside = true
		defer func() { inside = false }()
		return fn(ctx)
	}}
	a := w.add("a")
	undo := a.Undo
	a.Undo = func(c context.Context) error {
		if !inside {
			t.Error("undo ran outside the lock")
		}
		return undo(c)
	}
	p := &Plan{Steps: []*Step{a, failing("c", errors.New("boom"))}, LockKeys: []string{"r2", "r1", "r2"}}
	_ = ex.Apply(context.Background(), p, false)
	if !slices.Equal(keys, []string{"r1", "r2"}) {
		t.Errorf("keys %v", keys)
	}
}
