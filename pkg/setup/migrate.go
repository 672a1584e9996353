package setup

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
)

// MigrationAnnotation records a move from IRSA to Pod Identity on the ServiceAccount (doctor.MigrationAnnotation).
const MigrationAnnotation = doctor.MigrationAnnotation

// Migration steps, in order; each is recorded once done.
const (
	StepTrust       = doctor.StepTrust
	StepAssociated  = doctor.StepAssociated
	StepVerified    = doctor.StepVerified
	StepIRSARemoved = doctor.StepIRSARemoved
)

func stepAtLeast(step, want string) bool {
	return slices.Index(doctor.StepOrder, step) >= slices.Index(doctor.StepOrder, want)
}

// MigrationRecord is the value of MigrationAnnotation.
type MigrationRecord = doctor.MigrationRecord

// PodIdentityVerifier proves end to end that a ServiceAccount gets its role through Pod Identity (EKS Auth
// AssumeRoleForPodIdentity with a token of audience pods.eks.amazonaws.com, then STS GetCallerIdentity); it
// returns the assumed role's ARN.
type PodIdentityVerifier interface {
	Verify(ctx context.Context, cluster, namespace, serviceAccount string) (string, error)
}

// MigrateRequest is what `kubectl irsa migrate` is asked to do. Names empty means every ServiceAccount of
// Namespace using IRSA ("" Namespace: every namespace).
type MigrateRequest struct {
	Namespace                             string
	Names                                 []string
	DryRun, Restart, RemoveIRSA, Rollback bool
}

// Migrator moves ServiceAccounts from IRSA to Pod Identity one at a time, and back.
type Migrator struct {
	*PodIdentity
	Verifier PodIdentityVerifier
	// AccessEntries reads the cluster's authentication mode and access entries for the node role check (nil:
	// access entries are not read, which is reported as not checked).
	AccessEntries AccessEntryAPI

	preflight *preflight
}

// Migrate runs the request: each ServiceAccount is preflighted, planned and moved on its own; one that fails
// preflight is skipped, one whose verification fails is rolled back, and the others go on.
func (m *Migrator) Migrate(ctx context.Context, req MigrateRequest) (*api.MigrationList, error) {
	if err := m.checkCluster(); err != nil {
		return nil, err
	}
	list := api.NewMigrationList()
	list.Cluster, list.DryRun, list.Rollback = m.Cluster, req.DryRun, req.Rollback
	sas, err := m.scope(ctx, req)
	if err != nil {
		return nil, err
	}
	m.preflight = &preflight{m: m, pods: map[string][]corev1.Pod{}}
	for _, sa := range sas {
		var item api.Migration
		if req.Rollback {
			item = m.rollbackOne(ctx, sa, req)
		} else {
			item = m.migrateOne(ctx, sa, req)
		}
		list.Items = append(list.Items, item)
	}
	return list, nil
}

// scope lists the ServiceAccounts asked for: named ones (missing ones are an error), or every ServiceAccount of
// the namespace(s) that has a role annotation or a migration record.
func (m *Migrator) scope(ctx context.Context, req MigrateRequest) ([]corev1.ServiceAccount, error) {
	if len(req.Names) > 0 {
		var out []corev1.ServiceAccount
		for _, name := range req.Names {
			sa, err := m.Kube.CoreV1().ServiceAccounts(req.Namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("cannot read serviceaccount %s/%s: %w", req.Namespace, name, err)
			}
			out = append(out, *sa)
		}
		return out, nil
	}
	all, err := cluster.ListServiceAccounts(ctx, m.Kube, req.Namespace)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(sa corev1.ServiceAccount) bool {
		return sa.Annotations[iamref.RoleARNAnnotation] == "" && sa.Annotations[MigrationAnnotation] == ""
	}), nil
}

func readRecord(sa *corev1.ServiceAccount) (MigrationRecord, error) {
	var rec MigrationRecord
	raw := sa.Annotations[MigrationAnnotation]
	if raw == "" {
		return rec, nil
	}
	if err := json.Unmarshal([]byte(raw), &rec); err != nil || !slices.Contains(doctor.StepOrder, rec.Step) {
		return rec, fmt.Errorf("annotation %s is not a migration record (%q): remove it by hand (kubectl annotate serviceaccount %s -n %s %s-)", MigrationAnnotation, raw, sa.Name, sa.Namespace, MigrationAnnotation)
	}
	return rec, nil
}

// patchAnnotations sets (value) or removes (nil) annotations of the ServiceAccount with one merge patch.
func (m *Migrator) patchAnnotations(ctx context.Context, namespace, name string, set map[string]any) error {
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": set}})
	if _, err := m.Kube.CoreV1().ServiceAccounts(namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("annotate serviceaccount %s/%s: %w", namespace, name, err)
	}
	return nil
}

// migrateOne moves one ServiceAccount, resuming from its recorded step.
func (m *Migrator) migrateOne(ctx context.Context, sa corev1.ServiceAccount, req MigrateRequest) api.Migration {
	item := api.Migration{Namespace: sa.Namespace, ServiceAccount: sa.Name, Actions: []api.Action{}}
	skip := func(reasons ...string) api.Migration {
		item.Outcome, item.Reasons = api.MigrationSkipped, append(item.Reasons, reasons...)
		return item
	}
	rec, err := readRecord(&sa)
	if err != nil {
		return skip(err.Error())
	}
	item.Step, item.ResumedFrom = rec.Step, rec.Step
	roleARN := sa.Annotations[iamref.RoleARNAnnotation]
	if roleARN == "" {
		roleARN = rec.RoleARN
	}
	if roleARN == "" {
		return skip(fmt.Sprintf("not linked with IRSA (no %s annotation): link it with kubectl irsa link --pod-identity instead", iamref.RoleARNAnnotation))
	}
	if rec.RoleARN != "" && sa.Annotations[iamref.RoleARNAnnotation] != "" && rec.RoleARN != roleARN {
		return skip(fmt.Sprintf("the role annotation (%s) differs from the recorded migration's role (%s): roll back first (kubectl irsa migrate %s -n %s --rollback)", roleARN, rec.RoleARN, sa.Name, sa.Namespace))
	}
	item.RoleARN = roleARN
	role, err := iamref.ParseRole(roleARN)
	if err != nil {
		return skip(err.Error())
	}
	// An already verified move is not held back by its logs (they show the SDK that now uses Pod Identity): a
	// re-run reads none.
	reasons, unchecked := m.preflight.check(ctx, &sa, roleARN, !stepAtLeast(rec.Step, StepVerified))
	item.CouldNotCheck = unchecked
	if len(reasons) > 0 {
		return skip(reasons...)
	}
	if reason := m.roleExists(ctx, role); reason != "" {
		return skip(reason)
	}
	assoc, err := m.FindAssociation(ctx, sa.Namespace, sa.Name)
	if err != nil {
		return skip(err.Error())
	}
	if assoc != nil && aws.ToString(assoc.RoleArn) != roleARN {
		return skip(fmt.Sprintf("Pod Identity association %s already uses role %s, not %s: unlink it first (kubectl irsa unlink %s -n %s --pod-identity)", aws.ToString(assoc.AssociationId), aws.ToString(assoc.RoleArn), roleARN, sa.Name, sa.Namespace))
	}
	done := stepAtLeast(rec.Step, StepVerified) && assoc != nil && (!req.RemoveIRSA || rec.Step == StepIRSARemoved)
	if done {
		item.Outcome, item.ResumedFrom = api.MigrationUnchanged, ""
		item.Actions = append(item.Actions, api.Action{Op: "=", Resource: "serviceaccount/" + sa.Namespace + "/" + sa.Name, Detail: "already migrated (step " + rec.Step + ")", Status: api.StatusUnchanged})
		return item
	}
	if rec.Step == "" {
		item.ResumedFrom = ""
	}
	plan := m.migratePlan(&sa, rec, role, assoc)
	if req.RemoveIRSA {
		plan.irsa = m.removeIRSAPlan(&sa, role)
	}
	item.Actions = plan.actions()
	if req.DryRun {
		item.Outcome = api.MigrationPlanned
		return item
	}
	return m.apply(ctx, &sa, item, plan, role, req)
}

// roleExists checks that the annotation names a role IAM has, by its whole ARN (partition, account and path
// included): IAM answers GetRole by name, so a name alone would migrate another role. It returns the reason to
// skip, or "".
func (m *Migrator) roleExists(ctx context.Context, role iamref.Role) string {
	got := state.ReadRole(ctx, m.IAM, role.Name)
	switch {
	case got.Presence == state.Missing:
		return fmt.Sprintf("RoleMissing: role %s does not exist: fix the %s annotation first", role.ARN, iamref.RoleARNAnnotation)
	case got.Presence == state.Unknown:
		return fmt.Sprintf("cannot read role %s: %v", role.ARN, awsapi.Short(got.Err))
	case got.ARN != role.ARN:
		return fmt.Sprintf("RoleMissing: role %s does not exist (IAM has %s): the annotation must name the whole ARN", role.ARN, got.ARN)
	}
	return ""
}
