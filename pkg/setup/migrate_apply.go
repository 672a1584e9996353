package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// apply writes one ServiceAccount's migration step by step, recording each step on the ServiceAccount. A
// failure before the verification passed rolls back the association and our Pod Identity statement (this
// run's and an interrupted run's) and the record, leaving IRSA as it was.
func (m *Migrator) apply(ctx context.Context, sa *corev1.ServiceAccount, item api.Migration, rec MigrationRecord, role iamref.Role, assocExists bool, req MigrateRequest) api.Migration {
	undo := &Undo{}
	ref := "serviceaccount/" + sa.Namespace + "/" + sa.Name
	fail := func(cause error) api.Migration {
		item.Outcome = api.MigrationFailed
		err := m.abandon(ctx, sa, role, rec, undo, cause)
		item.Reasons = append(item.Reasons, err.Error())
		for i := range item.Actions {
			switch item.Actions[i].Status {
			case api.StatusDone:
				item.Actions[i].Status = api.StatusRolledBack
			case api.StatusPlanned:
				item.Actions[i].Status = api.StatusFailed
			}
		}
		item.Step = ""
		return item
	}
	step := func(s string) error {
		if stepAtLeast(rec.Step, s) {
			return nil
		}
		if err := m.record(ctx, sa, role.ARN, s); err != nil {
			return err
		}
		rec.Step, item.Step = s, s
		return nil
	}
	changed, err := m.addPodIdentityTrust(ctx, role.ARN, role.Name, undo)
	if err != nil {
		return fail(err)
	}
	mark(&item, "role/", map[bool]string{true: api.StatusDone, false: api.StatusUnchanged}[changed])
	if err := step(StepTrust); err != nil {
		return fail(err)
	}
	if assocExists {
		mark(&item, "podidentityassociation/", api.StatusUnchanged)
	} else {
		if _, err := m.createAssociation(ctx, sa.Namespace, sa.Name, role.ARN, "", false, undo); err != nil {
			return fail(err)
		}
		mark(&item, "podidentityassociation/", api.StatusDone)
	}
	if err := step(StepAssociated); err != nil {
		return fail(err)
	}
	mark(&item, ref, api.StatusDone)
	follow := api.NewResult("LinkResult")
	if err := m.followUpPodIdentity(ctx, follow, sa.Namespace, sa.Name, req.Restart); err != nil {
		item.Hints = append(item.Hints, err.Error())
	}
	item.Actions = append(item.Actions, follow.Actions...)
	item.Hints = append(item.Hints, follow.Hints...)
	if m.Verifier == nil {
		return fail(errors.New("no end-to-end verifier configured"))
	}
	assumed, err := m.Verifier.Verify(ctx, m.Cluster, sa.Namespace, sa.Name)
	if err == nil && !strings.Contains(assumed, ":assumed-role/"+role.Name+"/") {
		err = fmt.Errorf("EKS Auth returned a session of %s, not of role %s", assumed, role.Name)
	}
	if err != nil {
		return fail(fmt.Errorf("verification failed: %w", err))
	}
	item.AssumedRole = assumed
	mark(&item, ref, api.StatusDone)
	if err := step(StepVerified); err != nil {
		return fail(err)
	}
	item.Outcome = api.MigrationMigrated
	if req.RemoveIRSA {
		onIRSA, err := m.podsStillOnIRSA(ctx, sa.Namespace, sa.Name)
		if err != nil || len(onIRSA) > 0 {
			why := fmt.Sprintf("%d pod(s) still use IRSA: %s", len(onIRSA), strings.Join(onIRSA, ", "))
			if err != nil {
				why = "cannot tell which pods still use IRSA: " + err.Error()
			}
			item.Outcome = api.MigrationSkipped
			item.Reasons = append(item.Reasons, fmt.Sprintf("migrated and verified, IRSA kept: %s; restart them (or wait for --restart to replace them), then re-run with --remove-irsa", why))
			return item
		}
		if err := m.removeIRSA(ctx, sa, role); err != nil {
			item.Outcome = api.MigrationFailed
			item.Reasons = append(item.Reasons, fmt.Sprintf("migrated and verified, but removing IRSA failed: %v; re-run with the same flags", err))
			return item
		}
		mark(&item, ref, api.StatusDone)
		if err := step(StepIRSARemoved); err != nil {
			item.Outcome = api.MigrationFailed
			item.Reasons = append(item.Reasons, err.Error())
		}
	}
	return item
}

// abandon rolls back this run's writes, and an interrupted run's association and Pod Identity statement, then
// removes the record. It returns cause with what was rolled back.
func (m *Migrator) abandon(ctx context.Context, sa *corev1.ServiceAccount, role iamref.Role, rec MigrationRecord, undo *Undo, cause error) error {
	ctx = context.WithoutCancel(ctx)
	err := undo.Rollback(ctx, cause)
	var late []string
	if stepAtLeast(rec.Step, StepAssociated) {
		if a, ferr := m.FindAssociation(ctx, sa.Namespace, sa.Name); ferr == nil && a != nil && aws.ToString(a.RoleArn) == role.ARN {
			if derr := m.deleteAssociation(ctx, aws.ToString(a.AssociationId)); derr != nil {
				late = append(late, derr.Error())
			}
		}
	}
	if stepAtLeast(rec.Step, StepTrust) {
		if others, oerr := m.OtherAssociations(ctx, role.ARN, ""); oerr == nil && len(others) == 0 {
			if _, rerr := m.removePodIdentityTrust(ctx, role.ARN, role.Name); rerr != nil && !errors.Is(rerr, trust.ErrEmptyPolicy) {
				late = append(late, rerr.Error())
			}
		}
	}
	if perr := m.patchAnnotations(ctx, sa.Namespace, sa.Name, map[string]any{MigrationAnnotation: nil}); perr != nil {
		late = append(late, perr.Error())
	}
	if len(late) > 0 {
		return fmt.Errorf("%w; ROLLBACK INCOMPLETE, undo by hand: %s", err, strings.Join(late, "; "))
	}
	return fmt.Errorf("%w; IRSA is left as it was", err)
}

// podsStillOnIRSA lists the ServiceAccount's live pods injected for IRSA and not for Pod Identity: removing IRSA
// while they run would take their credentials away.
func (m *Migrator) podsStillOnIRSA(ctx context.Context, namespace, name string) ([]string, error) {
	pods, err := cluster.ListPods(ctx, m.Kube, namespace, "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, pod := range pods {
		if cluster.PodServiceAccount(&pod.Spec) == name && pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodSucceeded &&
			pod.Status.Phase != corev1.PodFailed && cluster.PodHasEnv(&pod.Spec, "AWS_WEB_IDENTITY_TOKEN_FILE") && !cluster.PodHasEnv(&pod.Spec, PodIdentityEnv) {
			out = append(out, pod.Name)
		}
	}
	return out, nil
}

// removeIRSA removes the role annotation and this ServiceAccount's subject from our IRSA statement (the
// statement goes when no other subject remains); foreign statements are kept.
func (m *Migrator) removeIRSA(ctx context.Context, sa *corev1.ServiceAccount, role iamref.Role) error {
	if sa.Annotations[iamref.RoleARNAnnotation] != "" {
		if err := m.patchAnnotations(ctx, sa.Namespace, sa.Name, map[string]any{iamref.RoleARNAnnotation: nil}); err != nil {
			return err
		}
	}
	_, err := m.editTrust(ctx, role.ARN, role.Name, func(doc *trust.Document) (bool, error) {
		removed, err := doc.RemoveSubjects(trust.NewProvider(role.Partition, role.Account, m.Issuer), iamref.Audience(sa.Annotations), trust.Subject(sa.Namespace, sa.Name))
		return len(removed) > 0, err
	})
	return err
}
