package setup

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// PodIdentityEnv is the variable EKS injects into pods of an associated ServiceAccount.
const PodIdentityEnv = "AWS_CONTAINER_CREDENTIALS_FULL_URI"

// PodIdentityLinkRequest is what `kubectl irsa link --pod-identity` is asked to do, already validated.
type PodIdentityLinkRequest struct {
	Namespace, ServiceAccount string
	// RoleName, or RoleARN (an existing role), picks the role; with neither, a name is derived.
	RoleName           string
	RoleARN            *iamref.Role
	Permissions        Permissions
	TargetRoleARN      string
	DisableSessionTags bool
	// Overwrite replaces an association that points at another role.
	Overwrite, Restart, DryRun bool
	// TrustSizeLimit overrides the account's trust policy quota when > 0 (0: the account's, read from IAM).
	TrustSizeLimit int
}

// PodIdentityLinkPlan is the plan of a Pod Identity link: every read done, nothing written.
type PodIdentityLinkPlan struct {
	p       *PodIdentity
	Request PodIdentityLinkRequest
	SA      serviceAccountState
	Role    *RolePlan
	RoleARN string
	// AddTrust: our Pod Identity statement must be added to an existing role.
	AddTrust bool
	// Association is the current one (nil when none); Create or Update it.
	Association    *ekstypes.PodIdentityAssociation
	Create, Update bool
	AgentNote      string
	// Notes are what the plan could not check (the target role in another account, or unreadable).
	Notes []string
	steps *steps.Plan
}

// PlanLinkPodIdentity checks the request against live state and computes every change.
func (p *PodIdentity) PlanLinkPodIdentity(ctx context.Context, req PodIdentityLinkRequest) (*PodIdentityLinkPlan, error) {
	if err := p.checkCluster(); err != nil {
		return nil, err
	}
	pl := &PodIdentityLinkPlan{p: p, Request: req}
	var err error
	// An association may name a ServiceAccount that does not exist yet: its pods get Pod Identity once created.
	if pl.SA, err = readServiceAccount(ctx, p.Kube, req.Namespace, req.ServiceAccount, true); err != nil {
		return nil, err
	}
	roleName := req.RoleName
	if req.RoleARN != nil {
		roleName = req.RoleARN.Name
	}
	if roleName == "" {
		roleName = DefaultRoleName(p.Cluster, req.Namespace, req.ServiceAccount)
	}
	pl.Role, _, err = p.planRoleInQuota(ctx, roleAccount(req.RoleARN), req.TrustSizeLimit, RoleSpec{
		PodIdentity: &trust.PodIdentityRequest{Context: trust.PodIdentitySessionTags("", p.Cluster, req.Namespace, req.ServiceAccount)},
		Name:        roleName, Permissions: req.Permissions, PolicyOwner: PolicySid(req.Namespace, req.ServiceAccount),
		IssuerHostPath: strings.TrimPrefix(p.Issuer, "https://"),
		Description:    fmt.Sprintf("EKS Pod Identity role for %s/%s in cluster %s, created by kubectl irsa", req.Namespace, req.ServiceAccount, p.Cluster),
	})
	if err != nil {
		return nil, err
	}
	if req.RoleARN != nil && (!pl.Role.Exists || pl.Role.ARN != req.RoleARN.ARN) {
		return nil, errorf(ErrRoleMissing, "role %s does not exist (the ARN must match, path included)", req.RoleARN.ARN)
	}
	pl.AddTrust = pl.Role.Exists && len(pl.Role.Added) > 0
	pl.RoleARN = pl.Role.ARN
	if pl.RoleARN == "" {
		caller, err := p.caller(ctx)
		if err != nil {
			return nil, err
		}
		pl.RoleARN = iamref.RoleARN(caller.Partition, caller.Account, "/", roleName)
	}
	if req.TargetRoleARN != "" {
		note, err := p.checkTargetRole(ctx, req.TargetRoleARN)
		if err != nil {
			return nil, err
		}
		if note != "" {
			pl.Notes = append(pl.Notes, note)
		}
	}
	if pl.Association, err = p.FindAssociation(ctx, req.Namespace, req.ServiceAccount); err != nil {
		return nil, err
	}
	switch a := pl.Association; {
	case a == nil:
		pl.Create = true
	case aws.ToString(a.RoleArn) != pl.RoleARN && !req.Overwrite:
		return nil, errorf(ErrAssociatedElsewhere, "serviceaccount %s/%s has Pod Identity association %s with role %s, not %s",
			req.Namespace, req.ServiceAccount, aws.ToString(a.AssociationId), aws.ToString(a.RoleArn), pl.RoleARN)
	default:
		pl.Update = aws.ToString(a.RoleArn) != pl.RoleARN || aws.ToString(a.TargetRoleArn) != req.TargetRoleARN ||
			aws.ToBool(a.DisableSessionTags) != req.DisableSessionTags
	}
	if ok, note := p.AgentInstalled(ctx); !ok {
		pl.AgentNote = note
	}
	pl.Role.LockKey = pl.RoleARN
	pl.plan()
	return pl, nil
}

// plan orders the writes: the role (our Pod Identity statement in its trust, permissions), then the
// association, all under the role's lock, so an unlink of the role's last association cannot remove the
// statement between the trust check and the association.
func (pl *PodIdentityLinkPlan) plan() {
	p, req := pl.p, pl.Request
	pl.steps = &steps.Plan{LockKeys: []string{pl.RoleARN}}
	// The trust step runs whenever the association is written: it re-checks the statement under the lock.
	pl.steps.Add(pl.Role.steps(p.writer(), pl.Create || pl.Update)...)
	pl.steps.Add(p.associationStep(associationWant{Namespace: req.Namespace, ServiceAccount: req.ServiceAccount, RoleARN: pl.RoleARN, ARN: pl.roleARN,
		TargetRoleARN: req.TargetRoleARN, DisableSessionTags: req.DisableSessionTags}, pl.Association))
}

// roleARN is the role's ARN as IAM answered it once written (the plan's before).
func (pl *PodIdentityLinkPlan) roleARN() string {
	if pl.Role.ARN != "" {
		return pl.Role.ARN
	}
	return pl.RoleARN
}

// Changed reports whether applying the plan writes anything.
func (pl *PodIdentityLinkPlan) Changed() bool {
	return pl.Role.Changed() || pl.AddTrust || pl.Create || pl.Update
}

// Result describes the plan, every action planned or unchanged.
func (pl *PodIdentityLinkPlan) Result() *api.Result {
	r := api.NewResult("LinkResult")
	req := pl.Request
	r.Role = &api.RoleInfo{Name: pl.Role.Spec.Name, ARN: pl.RoleARN, Exists: pl.Role.Exists, Managed: pl.Role.Managed || !pl.Role.Exists}
	r.ServiceAccounts = []api.ServiceAccountRef{{Namespace: req.Namespace, Name: req.ServiceAccount, Subject: trust.Subject(req.Namespace, req.ServiceAccount), Audience: trust.ServicePodIdentity}}
	r.DryRun = req.DryRun
	r.Actions = pl.steps.Actions()
	if pl.AgentNote != "" {
		r.Hints = append(r.Hints, pl.AgentNote)
	}
	r.Hints = append(r.Hints, pl.Notes...)
	r.Hints = append(r.Hints, pl.Role.policyHints()...)
	if !pl.SA.Exists {
		r.Hints = append(r.Hints, fmt.Sprintf("serviceaccount %s/%s does not exist yet: pods using it get Pod Identity once it is created", req.Namespace, req.ServiceAccount))
	}
	if pl.SA.RoleARN != "" {
		r.Hints = append(r.Hints, fmt.Sprintf("serviceaccount %s/%s is also annotated %s=%s: EKS Pod Identity takes precedence over IRSA for pods admitted from now on", req.Namespace, req.ServiceAccount, iamref.RoleARNAnnotation, pl.SA.RoleARN))
	}
	r.Unchanged = !pl.Changed()
	return r
}

// Apply writes the plan: the role (trust, permissions), then the association. When a step fails, every write of
// this run is rolled back: the association deleted (or pointed back), our statement removed from the current
// trust, a created role deleted. Restarts come last and are not rolled back.
func (pl *PodIdentityLinkPlan) Apply(ctx context.Context) (*api.Result, error) {
	p, req := pl.p, pl.Request
	if req.DryRun && pl.Changed() {
		// A dry run shows the size refusal the real run would meet.
		if err := pl.Role.PrecheckPolicy(ctx, p.IAM); err != nil {
			return pl.Result(), err
		}
	}
	err := p.apply(ctx, pl.steps, req.DryRun)
	res := pl.Result()
	if err != nil {
		return res, err
	}
	if req.DryRun || !pl.Changed() {
		return res, pl.followUp(ctx, res)
	}
	res.Hints = append(res.Hints, pl.Role.Notes...)
	pl.RoleARN, res.Role.ARN = pl.roleARN(), pl.roleARN()
	res.Role.Exists = true
	if err := interruptedAfterWrites(ctx, "the association of "+req.Namespace+"/"+req.ServiceAccount+" with "+pl.RoleARN); err != nil {
		return res, err
	}
	return res, pl.followUp(ctx, res)
}

func (p *PodIdentity) updateAssociation(ctx context.Context, id, roleARN, targetRoleARN string, disableTags bool) error {
	_, err := p.EKS.UpdatePodIdentityAssociation(ctx, &eks.UpdatePodIdentityAssociationInput{ClusterName: aws.String(p.Cluster),
		AssociationId: aws.String(id), RoleArn: aws.String(roleARN), TargetRoleArn: aws.String(targetRoleARN), DisableSessionTags: aws.Bool(disableTags)})
	if err != nil {
		return fmt.Errorf("eks:UpdatePodIdentityAssociation %s: %w", id, awsapi.Short(err))
	}
	return nil
}

func (pl *PodIdentityLinkPlan) followUp(ctx context.Context, res *api.Result) error {
	if !pl.SA.Exists {
		return nil
	}
	return pl.p.followUpPodIdentity(ctx, res, pl.Request.Namespace, pl.Request.ServiceAccount, pl.Request.Restart && !pl.Request.DryRun)
}

// followUpPodIdentity restarts (or lists) the workloads whose pods predate the association: pods admitted
// before it lack the Pod Identity variables.
func (p *PodIdentity) followUpPodIdentity(ctx context.Context, res *api.Result, namespace, name string, restart bool) error {
	pods, err := cluster.ListPods(ctx, p.Kube, namespace, "")
	if err != nil {
		return err
	}
	var stale []string
	for _, pod := range pods {
		if cluster.PodServiceAccount(&pod.Spec) == name && pod.DeletionTimestamp == nil && !cluster.PodHasEnv(&pod.Spec, PodIdentityEnv) {
			stale = append(stale, pod.Name)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	_, workloads, err := StalePods(ctx, p.Kube, namespace, name)
	if err != nil {
		return err
	}
	if err := restartOrHint(ctx, p.Kube, res, stale, workloads, restart, p.now()); err != nil {
		return err
	}
	for i, h := range res.Hints {
		res.Hints[i] = strings.Replace(h, "predate the annotation and have no AWS credentials", "predate the Pod Identity association and do not use it", 1)
		res.Hints[i] = strings.Replace(res.Hints[i], "so the pod identity webhook injects the credentials", "so EKS injects the Pod Identity credentials", 1)
	}
	return nil
}

// checkTargetRole reads the association's target role when it is in the caller's partition and account: one that
// certainly does not exist (NoSuchEntity, or another path) is refused, before any write. A role in another
// partition or account, or one that cannot be read, is not refused: the note says it was not checked.
func (p *PodIdentity) checkTargetRole(ctx context.Context, targetRoleARN string) (string, error) {
	target, err := iamref.ParseRole(strings.TrimSpace(targetRoleARN))
	if err != nil {
		return "", fmt.Errorf("target role: %w", err)
	}
	caller, err := p.caller(ctx)
	if err != nil {
		return "", err
	}
	if caller.Partition != target.Partition {
		return fmt.Sprintf("target role %s is in partition %s, not in this one (%s): could not check that it exists", target.ARN, target.Partition, caller.Partition), nil
	}
	if caller.Account != target.Account {
		return fmt.Sprintf("target role %s is in account %s, not in this one (%s): could not check that it exists; `kubectl irsa test` checks it with that account's credentials", target.ARN, target.Account, caller.Account), nil
	}
	got := state.ReadRole(ctx, p.IAM, target.Name)
	switch {
	case got.Presence == state.Missing:
		return "", errorf(ErrTargetRoleMissing, "target role %s does not exist in account %s: EKS Auth could not return its credentials (nothing was written)", target.ARN, target.Account)
	case got.Presence == state.Unknown:
		return fmt.Sprintf("could not check that target role %s exists (iam:GetRole: %v)", target.ARN, awsapi.Short(got.Err)), nil
	case got.ARN != target.ARN:
		return "", errorf(ErrTargetRoleMissing, "target role %s does not exist: IAM has role %s at %s (the ARN must match, path included; nothing was written)", target.ARN, target.Name, got.ARN)
	}
	return "", nil
}

// roleAccount is the account of a role named by ARN ("" for the caller's).
func roleAccount(r *iamref.Role) string {
	if r == nil {
		return ""
	}
	return r.Account
}
