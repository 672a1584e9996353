package inspect

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

// auditPodIdentity audits the EKS Pod Identity associations in scope: each association's role is read once
// (and joins the audited roles, used by "pod-identity NS/SA", so its trust is checked for sts:TagSession),
// an association to a missing role and an annotation naming another role are findings.
func (in *Inspector) auditPodIdentity(ctx context.Context, namespace string, sas []corev1.ServiceAccount, referenced map[string]iamref.Role, usedBy map[string][]string) []doctor.Finding {
	list, ok := in.associationsIn(ctx, namespace)
	if !ok || len(list) == 0 {
		return nil
	}
	annotations := map[string]string{}
	for _, sa := range sas {
		annotations[sa.Namespace+"/"+sa.Name] = sa.Annotations[iamref.RoleARNAnnotation]
	}
	var arns []string
	for _, a := range list {
		if a.described {
			arns = append(arns, a.roleARN)
			if a.targetRoleARN != "" {
				arns = append(arns, a.targetRoleARN)
			}
		}
	}
	if in.IAM != nil {
		in.prefetchRoles(ctx, arns, false)
	}
	var out []doctor.Finding
	for _, a := range list {
		if !a.described {
			continue
		}
		key := a.namespace + "/" + a.serviceAccount
		audit := doctor.AuditAssociation{ID: a.id, Namespace: a.namespace, ServiceAccount: a.serviceAccount, RoleARN: a.roleARN, Annotation: annotations[key]}
		if r, err := iamref.ParseRole(strings.TrimSpace(a.roleARN)); err == nil {
			in.mu.Lock()
			st := in.roles[r.ARN]
			in.mu.Unlock()
			if st != nil && !st.unreadable {
				found := st.role.Found
				audit.RoleFound = &found
				if found {
					referenced[r.ARN] = r
					usedBy[r.ARN] = append(usedBy[r.ARN], "pod-identity "+key)
				}
			}
		}
		if a.targetRoleARN != "" {
			audit.TargetRoleARN = a.targetRoleARN
			if st := in.cachedRole(a.targetRoleARN); st != nil && !st.unreadable {
				found := st.role.Found
				audit.TargetRoleFound = &found
			}
		}
		out = append(out, doctor.AuditAssociationRules(audit)...)
	}
	return out
}
