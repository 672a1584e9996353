package api

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Outcomes of one ServiceAccount's migration.
const (
	MigrationMigrated   = "migrated"
	MigrationUnchanged  = "unchanged"
	MigrationPlanned    = "planned"
	MigrationSkipped    = "skipped"
	MigrationFailed     = "failed"
	MigrationRolledBack = "rolled-back"
)

// Migration is what `kubectl irsa migrate` did for one ServiceAccount.
type Migration struct {
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
	RoleARN        string `json:"roleArn,omitempty"`
	// Outcome is migrated, unchanged (already migrated), planned (dry run), skipped, failed (and rolled back),
	// or rolled-back (--rollback).
	Outcome string `json:"outcome"`
	// Step is the step recorded on the ServiceAccount after this run ("" when none).
	Step string `json:"step,omitempty"`
	// ResumedFrom is the step a previous, interrupted run had recorded.
	ResumedFrom string `json:"resumedFrom,omitempty"`
	// Reasons say why the ServiceAccount was skipped or failed, each with its fix.
	Reasons []string `json:"reasons,omitempty"`
	// CouldNotCheck lists the preflight checks that could not run (a log or access entry that could not be read),
	// each with why: shown, but not a reason to skip.
	CouldNotCheck []string `json:"couldNotCheck,omitempty"`
	// AssumedRole is the session the end-to-end verification obtained through EKS Auth and STS.
	AssumedRole string   `json:"assumedRole,omitempty"`
	Actions     []Action `json:"actions"`
	Hints       []string `json:"hints,omitempty"`
}

// MigrationList is the typed result of `kubectl irsa migrate`.
type MigrationList struct {
	metav1.TypeMeta `json:",inline"`
	Cluster         string      `json:"cluster"`
	DryRun          bool        `json:"dryRun,omitempty"`
	Rollback        bool        `json:"rollback,omitempty"`
	Items           []Migration `json:"items"`
}

// NewMigrationList returns an empty list.
func NewMigrationList() *MigrationList {
	return &MigrationList{TypeMeta: TypeMeta("MigrationList"), Items: []Migration{}}
}

// DeepCopyObject implements runtime.Object.
func (l *MigrationList) DeepCopyObject() runtime.Object { return DeepCopy(l) }

// Succeeded reports whether every ServiceAccount in scope is migrated (or rolled back, or planned).
func (l *MigrationList) Succeeded() bool {
	for _, m := range l.Items {
		if m.Outcome == MigrationSkipped || m.Outcome == MigrationFailed {
			return false
		}
	}
	return true
}
