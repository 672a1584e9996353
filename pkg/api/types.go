// Package api holds the typed results kubectl irsa prints with -o json|yaml (apiVersion
// irsa.kubectl-irsa.io/v1alpha1) that more than one package builds: the write commands' Result with its
// actions, and the version. The read side's reports live with the code that gathers them (package inspect).
package api

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/report"
)

// APIVersion is the apiVersion of every typed result kubectl irsa prints with -o json|yaml.
const APIVersion = report.APIVersion

// TypeMeta returns the type meta of a result kind.
func TypeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: APIVersion, Kind: kind}
}

// DeepCopy copies a result through JSON: results are small, plain data.
func DeepCopy[T any](in *T) *T {
	out := new(T)
	b, _ := json.Marshal(in)
	_ = json.Unmarshal(b, out)
	return out
}

// VersionInfo is the result of `kubectl irsa version`.
type VersionInfo struct {
	metav1.TypeMeta `json:",inline"`
	Version         string `json:"version"`
	Commit          string `json:"commit"`
	Date            string `json:"date"`
	GoVersion       string `json:"goVersion"`
	Platform        string `json:"platform"`
}

// NewVersionInfo returns a VersionInfo with its kind set.
func NewVersionInfo(version, commit, date, goVersion, platform string) *VersionInfo {
	return &VersionInfo{TypeMeta: TypeMeta("Version"), Version: version, Commit: commit, Date: date, GoVersion: goVersion, Platform: platform}
}

// DeepCopyObject implements runtime.Object.
func (v *VersionInfo) DeepCopyObject() runtime.Object { return DeepCopy(v) }

// Action is one step of a plan: what is (or would be) done, and whether it was.
type Action struct {
	// Op is "+" (create), "~" (change), "-" (remove) or "=" (already as wanted).
	Op       string `json:"op"`
	Resource string `json:"resource"`
	Detail   string `json:"detail"`
	// Status is planned, done, unchanged, rolled-back or failed.
	Status string `json:"status"`
}

// Action statuses.
const (
	StatusPlanned    = "planned"
	StatusDone       = "done"
	StatusUnchanged  = "unchanged"
	StatusRolledBack = "rolled-back"
	StatusFailed     = "failed"
)

// ProviderInfo describes the IAM OIDC provider of the cluster's issuer.
type ProviderInfo struct {
	ARN        string `json:"arn"`
	Exists     bool   `json:"exists"`
	Thumbprint string `json:"thumbprint,omitempty"`
	// Note explains a thumbprint left out.
	Note string `json:"note,omitempty"`
}

// RoleInfo describes an IAM role.
type RoleInfo struct {
	Name   string `json:"name"`
	ARN    string `json:"arn"`
	Exists bool   `json:"exists"`
	// Managed: the role carries kubectl irsa's tag, so unlink --delete-role may delete it.
	Managed bool `json:"managed"`
}

// ServiceAccountRef names a ServiceAccount and the token claims it presents.
type ServiceAccountRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Subject   string `json:"subject"`
	Audience  string `json:"audience"`
}

// Result is the typed result of link, unlink, annotate, role create and provider create.
type Result struct {
	metav1.TypeMeta `json:",inline"`
	Issuer          string              `json:"issuer,omitempty"`
	Provider        *ProviderInfo       `json:"provider,omitempty"`
	Role            *RoleInfo           `json:"role,omitempty"`
	ServiceAccounts []ServiceAccountRef `json:"serviceAccounts,omitempty"`
	Actions         []Action            `json:"actions"`
	DryRun          bool                `json:"dryRun,omitempty"`
	// Unchanged: nothing needed writing.
	Unchanged bool `json:"unchanged"`
	// Hints are follow-ups for the user, such as pods to restart.
	Hints []string `json:"hints,omitempty"`
	// CouldNotCheck are the reads that failed: what they concern was left alone.
	CouldNotCheck []string `json:"couldNotCheck,omitempty"`
}

// NewResult returns an empty result of the given kind.
func NewResult(kind string) *Result { return &Result{TypeMeta: TypeMeta(kind), Actions: []Action{}} }

// DeepCopyObject implements runtime.Object.
func (r *Result) DeepCopyObject() runtime.Object { return DeepCopy(r) }

// MarkAll moves every action in status from to status to.
func (r *Result) MarkAll(from, to string) {
	for i := range r.Actions {
		if r.Actions[i].Status == from {
			r.Actions[i].Status = to
		}
	}
}
