package api

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Drift is one difference between an identity file and live state, named by its class ("subject missing",
// "annotation naming another role", ...).
type Drift struct {
	Class  string `json:"class"`
	Object string `json:"object"`
	Detail string `json:"detail"`
}

// SetResult is what `kubectl irsa diff -f` and `apply -f` print: the plan's actions, the drift found, what
// was noted as information only, and what could not be checked.
type SetResult struct {
	metav1.TypeMeta `json:",inline"`
	// Sets are the names of the IdentitySets compared.
	Sets    []string `json:"sets"`
	Actions []Action `json:"actions"`
	Drift   []Drift  `json:"drift"`
	// Info are differences that are not drift (a statement kubectl irsa did not write, a ServiceAccount not
	// marked as the set's yet).
	Info   []string `json:"info,omitempty"`
	DryRun bool     `json:"dryRun,omitempty"`
	// Unchanged: nothing needed writing.
	Unchanged bool     `json:"unchanged"`
	Hints     []string `json:"hints,omitempty"`
}

// NewSetResult returns an empty result of the given kind.
func NewSetResult(kind string) *SetResult {
	return &SetResult{TypeMeta: TypeMeta(kind), Sets: []string{}, Actions: []Action{}, Drift: []Drift{}}
}

// DeepCopyObject implements runtime.Object.
func (r *SetResult) DeepCopyObject() runtime.Object { return DeepCopy(r) }
