package doctor

import (
	"encoding/json"
	"fmt"
	"slices"
)

// MigrationAnnotation records a move from IRSA to Pod Identity on the ServiceAccount (written by migrate): the
// former role and the step reached, as JSON ({"roleArn":"...","step":"associated"}).
const MigrationAnnotation = "irsa.kubectl-irsa.io/migration"

// Migration steps, in order; migrate records each once done.
const (
	StepTrust       = "trust-added"
	StepAssociated  = "associated"
	StepVerified    = "verified"
	StepIRSARemoved = "irsa-removed"
)

// StepOrder lists the migration steps in order ("" before the first).
var StepOrder = []string{"", StepTrust, StepAssociated, StepVerified, StepIRSARemoved}

// MigrationRecord is the value of MigrationAnnotation.
type MigrationRecord struct {
	RoleARN string `json:"roleArn"`
	Step    string `json:"step"`
}

// ReadMigration returns the ServiceAccount's migration record (false: none, or not one migrate wrote).
func ReadMigration(annotations map[string]string) (MigrationRecord, bool) {
	raw, ok := annotations[MigrationAnnotation]
	if !ok {
		return MigrationRecord{}, false
	}
	var rec MigrationRecord
	if json.Unmarshal([]byte(raw), &rec) != nil || !slices.Contains(StepOrder[1:], rec.Step) {
		return MigrationRecord{}, false
	}
	return rec, true
}

// Unverified reports a migration stopped before its association was verified: an association may be live (it
// takes precedence over IRSA) without anyone having proved that it works.
func (r MigrationRecord) Unverified() bool {
	return r.Step == StepTrust || r.Step == StepAssociated
}

// State is the record as a list cell: "migrating (unverified)", "verified (IRSA kept)" or "migrated".
func (r MigrationRecord) State() string {
	switch {
	case r.Unverified():
		return "migrating (unverified)"
	case r.Step == StepVerified:
		return "verified (IRSA kept)"
	}
	return "migrated"
}

// MigrationUnverified is the finding id of a migration to Pod Identity stopped before verification.
const MigrationUnverified = "MigrationUnverified"

// migrationRules: MigrationUnverified, with the command that resumes the migration.
func migrationRules(s Subject) []Finding {
	rec, ok := ReadMigration(s.SA.Annotations)
	if !ok || !rec.Unverified() {
		return nil
	}
	summary := fmt.Sprintf("the migration of serviceaccount %s/%s to EKS Pod Identity stopped at step %q: ", s.SA.Namespace, s.SA.Name, rec.Step)
	if rec.Step == StepAssociated {
		summary += "its association exists and takes precedence over IRSA, but was never verified"
	} else {
		summary += "its role's trust admits Pod Identity, and an association may have been created, never verified"
	}
	return []Finding{{ID: MigrationUnverified, Severity: Error, Check: "serviceaccount", Target: saTarget(s.SA),
		Summary:  summary,
		Evidence: []string{MigrationAnnotation + ": " + s.SA.Annotations[MigrationAnnotation]},
		Fix:      fmt.Sprintf("kubectl irsa migrate %s -n %s (resumes and verifies it), or kubectl irsa migrate %s -n %s --rollback", s.SA.Name, s.SA.Namespace, s.SA.Name, s.SA.Namespace)}}
}
