package doctor

import (
	"fmt"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

// MechanismConflict (audit): a ServiceAccount's IRSA annotation and its EKS Pod Identity association name
// different roles; pods get the association's role, so the annotation misleads whoever reads it.
const MechanismConflict = "MechanismConflict"

// AuditAssociation is one EKS Pod Identity association under audit.
type AuditAssociation struct {
	ID, Namespace, ServiceAccount, RoleARN string
	// RoleFound is nil when the role could not be read.
	RoleFound *bool
	// Annotation is the ServiceAccount's eks.amazonaws.com/role-arn ("" when none or the SA does not exist).
	Annotation string
	// TargetRoleARN is the association's target role (role chaining; "" when none); TargetRoleFound is nil when
	// it could not be read.
	TargetRoleARN   string
	TargetRoleFound *bool
}

// targetRoleMissingSummary is the summary of PodIdentityTargetRoleMissing, the same for doctor, audit and test.
func targetRoleMissingSummary(associationID, roleName, targetRoleARN, account string) string {
	return fmt.Sprintf("Pod Identity association %s chains role %s into target role %s, which does not exist in account %s: EKS Auth cannot return its credentials",
		associationID, roleName, targetRoleARN, account)
}

// targetRoleMissingFix is the fix of PodIdentityTargetRoleMissing.
func targetRoleMissingFix(targetName, account, roleARN, namespace, serviceAccount string) string {
	return fmt.Sprintf("create role %s in account %s with a trust that lets %s call sts:AssumeRole and sts:TagSession, or point the association at an existing role: kubectl irsa link %s -n %s --pod-identity --target-role-arn ARN --overwrite",
		targetName, account, roleARN, serviceAccount, namespace)
}

// AuditAssociationRules: an association to a role that does not exist (PodIdentityRoleMissing), or chaining
// into a target role that does not exist (PodIdentityTargetRoleMissing), and an annotation naming another role
// than the association (MechanismConflict).
func AuditAssociationRules(a AuditAssociation) []Finding {
	target := "serviceaccount/" + a.Namespace + "/" + a.ServiceAccount
	var out []Finding
	if a.RoleFound != nil && !*a.RoleFound {
		out = append(out, Finding{ID: PodIdentityRoleMissing, Severity: High, Check: "iam", Target: target,
			Summary:  fmt.Sprintf("EKS Pod Identity association %s names role %s, which does not exist: pods of %s/%s get no credentials, and whoever creates a role of that name gets them", a.ID, a.RoleARN, a.Namespace, a.ServiceAccount),
			Evidence: []string{"association " + a.ID},
			Fix:      fmt.Sprintf("kubectl irsa link %s -n %s --pod-identity --role-arn %s, or delete the association", a.ServiceAccount, a.Namespace, a.RoleARN)})
	}
	if a.TargetRoleARN != "" && a.TargetRoleFound != nil && !*a.TargetRoleFound && (a.RoleFound == nil || *a.RoleFound) {
		t, err := iamref.ParseRole(strings.TrimSpace(a.TargetRoleARN))
		r, errR := iamref.ParseRole(strings.TrimSpace(a.RoleARN))
		if err == nil && errR == nil {
			out = append(out, Finding{ID: PodIdentityTargetRoleMissing, Severity: High, Check: "iam", Target: target,
				Summary:  targetRoleMissingSummary(a.ID, r.Name, a.TargetRoleARN, t.Account),
				Evidence: []string{"association " + a.ID},
				Fix:      targetRoleMissingFix(t.Name, t.Account, a.RoleARN, a.Namespace, a.ServiceAccount)})
		}
	}
	if ann := strings.TrimSpace(a.Annotation); ann != "" && ann != a.RoleARN {
		out = append(out, Finding{ID: MechanismConflict, Severity: Medium, Check: "serviceaccount", Target: target,
			Summary:  fmt.Sprintf("the ServiceAccount is annotated with %s but its EKS Pod Identity association %s names %s: pods get the association's role (Pod Identity takes precedence)", ann, a.ID, a.RoleARN),
			Evidence: []string{iamref.RoleARNAnnotation + ": " + ann, "association " + a.ID + ": " + a.RoleARN},
			Fix:      fmt.Sprintf("kubectl annotate serviceaccount %s -n %s %s-  (or point the association at %s)", a.ServiceAccount, a.Namespace, iamref.RoleARNAnnotation, ann)})
	}
	return out
}
