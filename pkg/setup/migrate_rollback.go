package setup

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
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
	provider := trust.NewProvider(role.Partition, role.Account, m.Issuer)
	subject, audience := trust.Subject(sa.Namespace, sa.Name), iamref.Audience(sa.Annotations)
	w := m.writer()
	plan := &steps.Plan{LockKeys: []string{role.ARN}}
	if sa.Annotations[iamref.RoleARNAnnotation] != roleARN {
		plan.Add(&steps.Step{
			Action: api.Action{Op: "+", Resource: ref, Detail: "annotate " + iamref.RoleARNAnnotation + "=" + roleARN, Status: api.StatusPlanned},
			Do: func(ctx context.Context) error {
				return m.patchAnnotations(ctx, sa.Namespace, sa.Name, map[string]any{iamref.RoleARNAnnotation: roleARN})
			},
		})
	}
	plan.Add(&steps.Step{
		Action: api.Action{Op: "~", Resource: "role/" + role.Name, Detail: "trust: make sure the IRSA statement admits " + subject, Status: api.StatusPlanned},
		Do: func(ctx context.Context) error {
			added, err := w.updateTrust(ctx, role.Name, func(d *trust.Document) ([]string, error) { return d.AddSubjectsChecked(provider, audience, subject) })
			if err == nil && len(added) == 0 {
				return steps.ErrUnchanged
			}
			return explainTrustError(role.Name, err)
		},
	})
	if assoc != nil {
		id := aws.ToString(assoc.AssociationId)
		plan.Add(&steps.Step{
			Action: api.Action{Op: "-", Resource: "podidentityassociation/" + sa.Namespace + "/" + sa.Name, Detail: "delete association " + id, Status: api.StatusPlanned},
			Do:     func(ctx context.Context) error { return m.deleteAssociation(ctx, id) },
		})
	}
	plan.Add(&steps.Step{
		Action: api.Action{Op: "~", Resource: "role/" + role.Name, Detail: "trust: remove statement " + trust.PodIdentitySid + " unless another association uses the role", Status: api.StatusPlanned},
		Do: func(ctx context.Context) error {
			err := m.removePodIdentityUnlessUsed(ctx, w, role.ARN, role.Name, "")
			if steps.IsKept(err) {
				item.Hints = append(item.Hints, err.Error()+": it stays")
				return steps.ErrUnchanged
			}
			return err
		},
	}, &steps.Step{
		Action: api.Action{Op: "-", Resource: ref, Detail: "remove " + MigrationAnnotation, Status: api.StatusPlanned},
		Do: func(ctx context.Context) error {
			return m.patchAnnotations(ctx, sa.Namespace, sa.Name, map[string]any{MigrationAnnotation: nil})
		},
	})
	item.Actions = plan.Actions()
	if req.DryRun {
		item.Outcome = api.MigrationPlanned
		return item
	}
	err = m.executor().Apply(ctx, plan, false)
	item.Actions = plan.Actions()
	if err != nil {
		return failed(err)
	}
	follow := api.NewResult("LinkResult")
	if err := m.followUp(ctx, follow, sa.Namespace, sa.Name, req.Restart); err != nil {
		item.Hints = append(item.Hints, err.Error())
	}
	item.Actions = append(item.Actions, follow.Actions...)
	item.Hints = append(item.Hints, follow.Hints...)
	item.Outcome, item.Step = api.MigrationRolledBack, ""
	return item
}
