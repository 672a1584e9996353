package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// migration is one ServiceAccount's migration as two plans: the move (trust, record, association, verification)
// and, with --remove-irsa, the removal of IRSA once the move is verified and no pod uses IRSA any more.
type migration struct {
	move, irsa *steps.Plan
	// assumed is the session the verification obtained; follow are the restart actions and hints.
	assumed string
	follow  *api.Result
	restart bool
}

func (mg *migration) actions() []api.Action {
	acts := mg.move.Actions()
	if mg.irsa != nil {
		acts = append(acts, mg.irsa.Actions()...)
	}
	return acts
}

// migratePlan orders one ServiceAccount's move. Every step is recorded on the ServiceAccount
// (MigrationAnnotation) before the next write, so the record names a step that is not verified whenever an
// association may exist without having been verified (an interrupted run): the read side shows it, a re-run
// resumes it. A step an interrupted run already made (rec) is adopted, so this run's rollback removes it too.
func (m *Migrator) migratePlan(sa *corev1.ServiceAccount, rec MigrationRecord, role iamref.Role, assoc *ekstypes.PodIdentityAssociation) *migration {
	mg := &migration{move: &steps.Plan{LockKeys: []string{role.ARN}}, follow: api.NewResult("LinkResult")}
	w := m.writer()
	ref := "serviceaccount/" + sa.Namespace + "/" + sa.Name
	var assocID string
	if assoc != nil {
		assocID = aws.ToString(assoc.AssociationId)
	}
	trustStep := m.podIdentityTrustStep(w, role.ARN, role.Name,
		api.Action{Op: "~", Resource: "role/" + role.Name, Detail: "trust: add statement " + trust.PodIdentitySid + " for " + trust.ServicePodIdentity + " (the IRSA statement stays)", Status: api.StatusPlanned},
		func() string { return "" }) // undone after this run's association is deleted
	if stepAtLeast(rec.Step, StepTrust) { // an interrupted run's statement: adopted
		do := trustStep.Do
		trustStep.Do = func(ctx context.Context) error {
			if err := do(ctx); err != nil && !errors.Is(err, steps.ErrUnchanged) {
				return err
			}
			return nil
		}
	}
	original := sa.Annotations[MigrationAnnotation]
	mg.move.Add(trustStep, &steps.Step{
		Action: api.Action{Op: "~", Resource: ref, Detail: "record " + MigrationAnnotation + " (step " + StepTrust + ", before the association)", Status: api.StatusPlanned},
		Do:     func(ctx context.Context) error { return m.recordStep(ctx, sa, role.ARN, rec.Step, StepTrust) },
		Undo: func(ctx context.Context) error {
			var v any
			if original != "" {
				v = original
			}
			return m.patchAnnotations(ctx, sa.Namespace, sa.Name, map[string]any{MigrationAnnotation: v})
		},
		UndoWhat: "remove the migration record of " + sa.Namespace + "/" + sa.Name,
	})
	assocStep := &steps.Step{
		Action:   api.Action{Op: "+", Resource: "podidentityassociation/" + sa.Namespace + "/" + sa.Name, Detail: "create association in cluster " + m.Cluster + " with role " + role.ARN, Status: api.StatusPlanned},
		Undo:     func(ctx context.Context) error { return m.deleteAssociation(ctx, assocID) },
		UndoWhat: "delete the Pod Identity association of " + sa.Namespace + "/" + sa.Name,
	}
	switch {
	case assoc == nil:
		assocStep.Do = func(ctx context.Context) error {
			var err error
			assocID, err = m.createAssociation(ctx, sa.Namespace, sa.Name, role.ARN, "", false)
			return err
		}
	case stepAtLeast(rec.Step, StepTrust) && !stepAtLeast(rec.Step, StepVerified): // an interrupted run's, never verified: adopted
		assocStep.Action.Op, assocStep.Action.Detail = "=", "association "+assocID+" created by an interrupted run, not verified yet"
		assocStep.Do = func(context.Context) error { return nil }
	default: // made by hand, or verified before: kept whatever happens
		assocStep.Action = api.Action{Op: "=", Resource: assocStep.Action.Resource, Detail: "association " + assocID + " already uses the role", Status: api.StatusUnchanged}
		assocStep.Undo = nil
	}
	mg.move.Add(assocStep,
		&steps.Step{
			Action: api.Action{Op: "~", Resource: ref, Detail: "record step " + StepAssociated + " (not verified yet)", Status: api.StatusPlanned},
			Do:     func(ctx context.Context) error { return m.recordStep(ctx, sa, role.ARN, rec.Step, StepAssociated) },
		},
		&steps.Step{
			Action: api.Action{Op: "?", Resource: ref, Detail: "verify: EKS Auth AssumeRoleForPodIdentity, then STS GetCallerIdentity", Status: api.StatusPlanned},
			Do:     func(ctx context.Context) error { return m.verify(ctx, sa, role, mg) },
		},
		&steps.Step{
			Action: api.Action{Op: "~", Resource: ref, Detail: "record step " + StepVerified, Status: api.StatusPlanned},
			Do:     func(ctx context.Context) error { return m.recordStep(ctx, sa, role.ARN, rec.Step, StepVerified) },
		})
	return mg
}

// recordStep records step on the ServiceAccount unless the record (had) is at or past it already.
func (m *Migrator) recordStep(ctx context.Context, sa *corev1.ServiceAccount, roleARN, had, step string) error {
	if stepAtLeast(had, step) {
		return steps.ErrUnchanged
	}
	b, _ := json.Marshal(MigrationRecord{RoleARN: roleARN, Step: step})
	return m.patchAnnotations(ctx, sa.Namespace, sa.Name, map[string]any{MigrationAnnotation: string(b)})
}

// verify restarts (or lists) the workloads whose pods predate the association, then proves the association end to
// end: the session EKS Auth returns must be the role's.
func (m *Migrator) verify(ctx context.Context, sa *corev1.ServiceAccount, role iamref.Role, mg *migration) error {
	if err := m.followUpPodIdentity(ctx, mg.follow, sa.Namespace, sa.Name, mg.restart); err != nil {
		mg.follow.Hints = append(mg.follow.Hints, err.Error())
	}
	if m.Verifier == nil {
		return errors.New("no end-to-end verifier configured")
	}
	assumed, err := m.Verifier.Verify(ctx, m.Cluster, sa.Namespace, sa.Name)
	if err == nil && !strings.Contains(assumed, ":assumed-role/"+role.Name+"/") {
		err = fmt.Errorf("EKS Auth returned a session of %s, not of role %s", assumed, role.Name)
	}
	if err != nil {
		return fmt.Errorf("verification failed: %w", err)
	}
	mg.assumed = assumed
	return nil
}

// removeIRSAPlan removes the role annotation and this ServiceAccount's subject from our IRSA statement (the
// statement goes when no other subject remains; foreign statements are kept), then records the step.
func (m *Migrator) removeIRSAPlan(sa *corev1.ServiceAccount, role iamref.Role) *steps.Plan {
	ref := "serviceaccount/" + sa.Namespace + "/" + sa.Name
	w := m.writer()
	provider, audience, subject := trust.NewProvider(role.Partition, role.Account, m.Issuer), iamref.Audience(sa.Annotations), trust.Subject(sa.Namespace, sa.Name)
	return &steps.Plan{LockKeys: []string{role.ARN}, Steps: []*steps.Step{
		{
			Action: api.Action{Op: "-", Resource: ref, Detail: "remove annotation " + iamref.RoleARNAnnotation, Status: api.StatusPlanned},
			Do: func(ctx context.Context) error {
				if sa.Annotations[iamref.RoleARNAnnotation] == "" {
					return steps.ErrUnchanged
				}
				return m.patchAnnotations(ctx, sa.Namespace, sa.Name, map[string]any{iamref.RoleARNAnnotation: nil})
			},
		},
		{
			Action: api.Action{Op: "~", Resource: "role/" + role.Name, Detail: "trust: remove " + subject + " from the IRSA statement", Status: api.StatusPlanned},
			Do: func(ctx context.Context) error {
				removed, err := w.updateTrust(ctx, role.Name, removeSubjectsMutation(provider, audience, []string{subject}))
				if err == nil && len(removed) == 0 {
					return steps.ErrUnchanged
				}
				return explainTrustError(role.Name, err)
			},
		},
		{
			Action: api.Action{Op: "~", Resource: ref, Detail: "record step " + StepIRSARemoved, Status: api.StatusPlanned},
			Do:     func(ctx context.Context) error { return m.recordStep(ctx, sa, role.ARN, "", StepIRSARemoved) },
		},
	}}
}

// apply writes one ServiceAccount's migration. A failure (or an interruption) before the verification passed
// rolls back the association and our Pod Identity statement (this run's and an interrupted run's) and the
// record, leaving IRSA as it was.
func (m *Migrator) apply(ctx context.Context, sa *corev1.ServiceAccount, item api.Migration, mg *migration, role iamref.Role, req MigrateRequest) api.Migration {
	mg.restart = req.Restart
	exec := m.executor()
	err := exec.Apply(ctx, mg.move, false)
	item.Actions = append(mg.actions(), mg.follow.Actions...)
	item.Hints = append(item.Hints, mg.follow.Hints...)
	if err != nil {
		item.Outcome, item.Step = api.MigrationFailed, ""
		if !strings.Contains(err.Error(), "ROLLBACK FAILED") {
			err = fmt.Errorf("%w; IRSA is left as it was", err)
		}
		item.Reasons = append(item.Reasons, err.Error())
		return item
	}
	item.AssumedRole, item.Outcome, item.Step = mg.assumed, api.MigrationMigrated, StepVerified
	if mg.irsa == nil {
		return item
	}
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
	err = exec.Apply(ctx, mg.irsa, false)
	item.Actions = append(mg.actions(), mg.follow.Actions...)
	if err != nil {
		item.Outcome = api.MigrationFailed
		item.Reasons = append(item.Reasons, fmt.Sprintf("migrated and verified, but removing IRSA failed: %v; re-run with the same flags", err))
		return item
	}
	item.Step = StepIRSARemoved
	return item
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
