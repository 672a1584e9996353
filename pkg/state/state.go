// Package state is the one reader of Kubernetes and AWS state that the commands share: a role's inline policies,
// EKS Pod Identity associations, the Pod Identity Agent, the cluster's node roles, and the recorder of what could
// not be checked. Every list is paged with the SDK paginators, fan-out is bounded with errgroup, and a read AWS
// refuses is "could not check: why", never absence. The write side (setup) and the read side (inspect) both call
// these functions, so a fact is read the same way wherever it is judged.
package state

import (
	"fmt"
	"slices"
	"sync"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
)

// maxInFlight bounds concurrent AWS reads of one fan-out; the SDK retries throttling itself.
const maxInFlight = 8

// Presence is a three-valued answer to "does it exist": found, missing, or not known (the read failed).
type Presence int

const (
	// Unknown: the read failed or was not possible; the reason is recorded as could-not-check.
	Unknown Presence = iota
	Found
	Missing
)

// Recorder collects, once each and in order, the notes of a run (how something was decided, which API the
// endpoint does not serve) and the checks that could not run because a read failed. Safe for concurrent use.
type Recorder struct {
	mu        sync.Mutex
	notes     []string
	unchecked []string
}

// Note records an informational note.
func (r *Recorder) Note(s string) { r.add(&r.notes, s) }

// Unchecked records a check that could not run, said in full ("could not check ...").
func (r *Recorder) Unchecked(s string) { r.add(&r.unchecked, s) }

// CouldNotCheck records a failed read: what could not be checked, and the error in one line.
func (r *Recorder) CouldNotCheck(what string, err error) {
	r.Unchecked(fmt.Sprintf("could not check %s: %v", what, awsapi.Short(err)))
}

// Notes returns the notes recorded so far.
func (r *Recorder) Notes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.notes)
}

// CouldNotCheckList returns the could-not-check lines recorded so far.
func (r *Recorder) CouldNotCheckList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.unchecked)
}

func (r *Recorder) add(list *[]string, s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(*list, s) {
		*list = append(*list, s)
	}
}
