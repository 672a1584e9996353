package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// rollbackOne moves a ServiceAccount back to IRSA: the role annotation and its subject in our IRSA statement
// restored, the association deleted, our Pod Identity statement removed (unless another association of the
// cluster uses the role), the record removed, and the workloads restarted or listed.
func (m *Migrator) rollbackOne(ctx context.Context, sa corev1.ServiceAccount, req MigrateRequest) api.Migration {
	item := api.Migration{Namespace: sa.Namespace, ServiceAccount: sa.Name, Actions: []api.Action{}}
	failed := func(err error) api.Migration {
		item.Outcome, item.Reasons = api.MigrationFailed, append(item.Reasons, err.Error()+"; re-run --rollback to continue")
		for i := range item.Actions {
			if item.Actions[i].Status == api.StatusPlanned {
				item.Actions[i].Status = api.StatusFailed
			}
		}
		return item
	}
	rec, err := readRecord(&sa)
	if err != nil {
		item.Outcome, item.Reasons = api.MigrationSkipped, []string{err.Error()}
		return item
	}
	assoc, err := m.FindAssociation(ctx, sa.Namespace, sa.Name)
	if err != nil {
		return failed(err)
	}
	roleARN := rec.RoleARN
	if roleARN == "" {
		roleARN = sa.Annotations[iamref.RoleARNAnnotation]
	}
	if rec.RoleARN == "" && assoc == nil {
		item.Outcome, item.Reasons = api.MigrationSkipped, []string{fmt.Sprintf("no migration recorded (%s) and no Pod Identity association: nothing to roll back", MigrationAnnotation)}
		return item
	}
	if roleARN == "" {
		roleARN = aws.ToString(assoc.RoleArn)
	}
	item.RoleARN, item.Step = roleARN, rec.Step
	role, err := iamref.ParseRole(roleARN)
	if err != nil {
		return failed(err)
	}
	ref := "serviceaccount/" + sa.Namespace + "/" + sa.Name
	add := func(op, res, detail string) {
		item.Actions = append(item.Actions, api.Action{Op: op, Resource: res, Detail: detail, Status: api.StatusPlanned})
	}
	provider := trust.NewProvider(role.Partition, role.Account, m.Issuer)
	subject, audience := trust.Subject(sa.Namespace, sa.Name), iamref.Audience(sa.Annotations)
	annotate := sa.Annotations[iamref.RoleARNAnnotation] != roleARN
	if annotate {
		add("+", ref, "annotate "+iamref.RoleARNAnnotation+"="+roleARN)
	}
	add("~", "role/"+role.Name, "trust: make sure the IRSA statement admits "+subject)
	if assoc != nil {
		add("-", "podidentityassociation/"+sa.Namespace+"/"+sa.Name, "delete association "+aws.ToString(assoc.AssociationId))
	}
	add("~", "role/"+role.Name, "trust: remove statement "+trust.PodIdentitySid+" unless another association uses the role")
	add("-", ref, "remove "+MigrationAnnotation)
	if req.DryRun {
		item.Outcome = api.MigrationPlanned
		return item
	}
	if annotate {
		if err := m.patchAnnotations(ctx, sa.Namespace, sa.Name, map[string]any{iamref.RoleARNAnnotation: roleARN}); err != nil {
			return failed(err)
		}
		mark(&item, ref, api.StatusDone)
	}
	added, err := m.editTrust(ctx, role.ARN, role.Name, func(doc *trust.Document) (bool, error) {
		added, err := doc.AddSubjectsChecked(provider, audience, subject)
		return len(added) > 0, err
	})
	if err != nil {
		return failed(err)
	}
	mark(&item, "role/", map[bool]string{true: api.StatusDone, false: api.StatusUnchanged}[added])
	if assoc != nil {
		if err := m.deleteAssociation(ctx, aws.ToString(assoc.AssociationId)); err != nil {
			return failed(err)
		}
		mark(&item, "podidentityassociation/", api.StatusDone)
	}
	others, err := m.OtherAssociations(ctx, role.ARN, "")
	if err != nil {
		return failed(err)
	}
	if len(others) > 0 {
		mark(&item, "role/", api.StatusUnchanged)
		item.Hints = append(item.Hints, fmt.Sprintf("role %s is still used by Pod Identity association(s) %s: its Pod Identity statement stays", role.Name, strings.Join(others, ", ")))
	} else {
		removed, err := m.removePodIdentityTrust(ctx, role.ARN, role.Name)
		if err != nil && !errors.Is(err, trust.ErrEmptyPolicy) {
			return failed(err)
		}
		mark(&item, "role/", map[bool]string{true: api.StatusDone, false: api.StatusUnchanged}[removed])
	}
	if err := m.patchAnnotations(ctx, sa.Namespace, sa.Name, map[string]any{MigrationAnnotation: nil}); err != nil {
		return failed(err)
	}
	mark(&item, ref, api.StatusDone)
	follow := api.NewResult("LinkResult")
	if err := m.followUp(ctx, follow, sa.Namespace, sa.Name, req.Restart); err != nil {
		item.Hints = append(item.Hints, err.Error())
	}
	item.Actions = append(item.Actions, follow.Actions...)
	item.Hints = append(item.Hints, follow.Hints...)
	item.Outcome, item.Step = api.MigrationRolledBack, ""
	return item
}
