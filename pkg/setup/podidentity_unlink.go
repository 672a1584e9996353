package setup

import (
	"context"
	"errors"
	"fmt"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// PodIdentityUnlinkPlan deletes a ServiceAccount's association and, when no other association of the cluster
// uses the role, our Pod Identity statement (or the role, when asked and kubectl irsa created it).
type PodIdentityUnlinkPlan struct {
	p                         *PodIdentity
	res                       *api.Result
	assocID                   string
	assoc                     *ekstypes.PodIdentityAssociation
	role                      iamref.Role
	removeTrust, deleteRole   bool
	namespace, serviceAccount string
	steps                     *steps.Plan
}

// PlanUnlinkPodIdentity reads the association, the other associations of the cluster and the role.
func (p *PodIdentity) PlanUnlinkPodIdentity(ctx context.Context, req UnlinkRequest) (*PodIdentityUnlinkPlan, error) {
	if err := p.checkCluster(); err != nil {
		return nil, err
	}
	sa, err := readServiceAccount(ctx, p.Kube, req.Namespace, req.ServiceAccount, true)
	if err != nil {
		return nil, err
	}
	a, err := p.FindAssociation(ctx, req.Namespace, req.ServiceAccount)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, fmt.Errorf("serviceaccount %s/%s has no Pod Identity association in cluster %s: nothing to unlink", req.Namespace, req.ServiceAccount, p.Cluster)
	}
	role, err := iamref.ParseRole(aws.ToString(a.RoleArn))
	if err != nil {
		return nil, fmt.Errorf("association %s: %w", aws.ToString(a.AssociationId), err)
	}
	pl := &PodIdentityUnlinkPlan{p: p, assoc: a, assocID: aws.ToString(a.AssociationId), role: role, namespace: req.Namespace, serviceAccount: req.ServiceAccount}
	res := api.NewResult("UnlinkResult")
	pl.res = res
	res.DryRun = req.DryRun
	res.ServiceAccounts = []api.ServiceAccountRef{{Namespace: req.Namespace, Name: req.ServiceAccount, Subject: trust.Subject(req.Namespace, req.ServiceAccount), Audience: trust.ServicePodIdentity}}
	res.Role = &api.RoleInfo{Name: role.Name, ARN: role.ARN}
	pl.steps = &steps.Plan{LockKeys: []string{role.ARN}}
	pl.steps.Add(&steps.Step{
		Action: api.Action{Op: "-", Resource: "podidentityassociation/" + req.Namespace + "/" + req.ServiceAccount, Detail: "delete association " + pl.assocID, Status: api.StatusPlanned},
		Do:     func(ctx context.Context) error { return p.deleteAssociation(ctx, pl.assocID) },
		Undo: func(ctx context.Context) error {
			_, err := p.createAssociation(ctx, pl.namespace, pl.serviceAccount, aws.ToString(a.RoleArn), aws.ToString(a.TargetRoleArn), aws.ToBool(a.DisableSessionTags))
			return err
		},
		UndoWhat: "recreate Pod Identity association for " + req.Namespace + "/" + req.ServiceAccount,
	})
	if err := pl.planStatement(ctx, sa); err != nil {
		return nil, err
	}

	others, err := p.RoleUsers(ctx, role.ARN, pl.assocID)
	if err != nil {
		if req.DeleteRole {
			return nil, errorf(ErrRoleInUse, "role %s: %v: not deleting it", role.Name, err)
		}
		res.Hints = append(res.Hints, fmt.Sprintf("role %s: %v: its Pod Identity statement is left as is", role.Name, err))
		return pl, nil
	}
	if len(others) > 0 {
		res.Hints = append(res.Hints, fmt.Sprintf("role %s is still used by Pod Identity association(s) %s: its trust is left as is", role.Name, strings.Join(others, ", ")))
		if req.DeleteRole {
			return nil, errorf(ErrRoleInUse, "role %s is still used by Pod Identity association(s) %s: not deleting it", role.Name, strings.Join(others, ", "))
		}
		return pl, nil
	}
	got := state.ReadRole(ctx, p.IAM, role.Name)
	switch got.Presence {
	case state.Missing:
		res.Hints = append(res.Hints, fmt.Sprintf("role %s does not exist; only the association is deleted", role.Name))
		return pl, nil
	case state.Unknown:
		return nil, got.ReadError()
	}
	res.Role.Exists, res.Role.Managed = true, isManaged(got.Tags)
	doc, err := trust.Parse(got.Trust)
	if err != nil {
		return nil, fmt.Errorf("role %s: %w", role.Name, err)
	}
	removed, err := doc.RemovePodIdentity()
	empty := errors.Is(err, trust.ErrEmptyPolicy)
	if err != nil && !empty {
		return nil, fmt.Errorf("role %s: %w", role.Name, err)
	}
	switch {
	case req.DeleteRole && !res.Role.Managed:
		return nil, errorf(ErrRoleNotManaged, "role %s was not created by kubectl irsa (no %s tag): not deleting it", role.Name, ManagedByTagKey)
	case req.DeleteRole && !empty:
		return nil, errorf(ErrRoleInUse, "role %s still trusts other principals (%v): not deleting it", role.Name, remainingSubjects(doc))
	case req.DeleteRole:
		pl.deleteRole = true
		pl.steps.Add(&steps.Step{
			Action: api.Action{Op: "-", Resource: "role/" + role.Name, Detail: "delete role (inline policies, managed policies detached)", Status: api.StatusPlanned},
			Do:     func(ctx context.Context) error { return pl.deleteRoleIfUnused(ctx) },
		})
	case empty:
		res.Hints = append(res.Hints, fmt.Sprintf("the Pod Identity statement is the only statement of role %s: the trust is left as is (IAM refuses an empty trust); delete the role with --delete-role", role.Name))
	case removed:
		pl.removeTrust = true
		w := p.writer()
		pl.steps.Add(&steps.Step{
			Action: api.Action{Op: "~", Resource: "role/" + role.Name, Detail: "trust: remove statement " + trust.PodIdentitySid, Status: api.StatusPlanned},
			// Checked again under the lock: a link may have associated the role since the plan.
			Do: func(ctx context.Context) error {
				err := p.removePodIdentityUnlessUsed(ctx, w, role.ARN, role.Name, pl.assocID)
				if steps.IsKept(err) {
					return steps.ErrUnchanged
				}
				return err
			},
			Undo: func(ctx context.Context) error {
				_, err := w.updateTrust(ctx, role.Name, addPodIdentityMutation(trust.PodIdentityRequest{}, 0))
				return err
			},
			UndoWhat: "add the Pod Identity statement back to role " + role.Name,
		})
	}
	return pl, nil
}

// planStatement plans removing the ServiceAccount's statements from the role's inline policy, first (an
// interrupted run leaves the association that finds the role for a re-run), unless the ServiceAccount's IRSA
// annotation names the same role: IRSA still uses them.
func (pl *PodIdentityUnlinkPlan) planStatement(ctx context.Context, sa serviceAccountState) error {
	role, owner := pl.role, PolicySid(pl.namespace, pl.serviceAccount)
	if sa.RoleARN == role.ARN {
		pl.res.Hints = append(pl.res.Hints, fmt.Sprintf("serviceaccount %s/%s keeps its statement %s of inline policy %s of role %s: its IRSA annotation uses the role too", pl.namespace, pl.serviceAccount, owner, InlinePolicyName, role.Name))
		return nil
	}
	cur, err := readInlinePolicy(ctx, pl.p.IAM, role.Name)
	switch {
	case awsapi.IsNotFound(err):
		return nil
	case isAccessDenied(err):
		pl.res.Hints = append(pl.res.Hints, fmt.Sprintf("could not read inline policy %s of role %s (%v): statement %s, if any, is left; remove it by hand", InlinePolicyName, role.Name, awsapi.Short(err), owner))
		return nil
	case err != nil:
		return err
	}
	owned, err := ownedIn(cur, owner)
	if err != nil {
		return fmt.Errorf("role %s inline policy %s: %w", role.Name, InlinePolicyName, err)
	}
	if len(owned) == 0 {
		return nil
	}
	up := &UnlinkPlan{role: role, policyOwner: owner, oldPolicy: cur}
	st := removeOwnedStep(pl.p.writer(), role.Name, owner, up.policyStep())
	pl.steps.Steps = append([]*steps.Step{st}, pl.steps.Steps...)
	return nil
}

// deleteRoleIfUnused deletes the role, checked again under the lock: no other association uses it.
func (pl *PodIdentityUnlinkPlan) deleteRoleIfUnused(ctx context.Context) error {
	others, err := pl.p.RoleUsers(ctx, pl.role.ARN, pl.assocID)
	if err != nil {
		return errorf(ErrRoleInUse, "role %s: %v: not deleting it", pl.role.Name, err)
	}
	if len(others) > 0 {
		return errorf(ErrRoleInUse, "role %s is now used by Pod Identity association(s) %s (created since the plan): not deleting it", pl.role.Name, strings.Join(others, ", "))
	}
	return DeleteRole(ctx, pl.p.IAM, pl.role.Name)
}

// Result describes the plan.
func (pl *PodIdentityUnlinkPlan) Result() *api.Result {
	res := api.DeepCopy(pl.res)
	res.Actions = pl.steps.Actions()
	return res
}

// Apply deletes the association, then removes our statement from the current trust (or deletes the role, last,
// as a deletion cannot be undone), under the role's lock. A failure recreates the association.
func (pl *PodIdentityUnlinkPlan) Apply(ctx context.Context) (*api.Result, error) {
	err := pl.p.apply(ctx, pl.steps, pl.res.DryRun)
	res := pl.Result()
	if pl.deleteRole && !pl.res.DryRun && stepDone(pl.steps, "role/"+pl.role.Name, "-") {
		pl.p.deletedRole(context.WithoutCancel(ctx), res, pl.role.ARN)
	}
	return res, err
}
