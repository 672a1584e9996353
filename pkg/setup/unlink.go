package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// UnlinkRequest is what `kubectl irsa unlink` is asked to do, already validated.
type UnlinkRequest struct {
	Namespace, ServiceAccount string
	// DeleteRole deletes the role when kubectl irsa created it and no other subject remains.
	DeleteRole bool
	DryRun     bool
	// AssociationID and AssociationRoleARN are the ServiceAccount's EKS Pod Identity association ("": none, or
	// not looked up): on the annotation's role, it still uses the ServiceAccount's inline policy statements,
	// which are then kept.
	AssociationID, AssociationRoleARN string
}

// UnlinkPlan removes the annotation and only this ServiceAccount's subject from the role's trust.
type UnlinkPlan struct {
	s        *Setup
	res      *api.Result
	role     iamref.Role
	sa       serviceAccountState
	provider trust.Provider
	subject  string
	oldTrust *trust.Document
	newTrust *trust.Document
	// oldPolicy is the inline policy kubectl-irsa as planned (normalised, "" for none).
	oldPolicy string
	// removeSubject: the trust changes; deleteRole: the role goes.
	removeSubject, deleteRole bool
	// policyOwner is the Sid of this ServiceAccount's statements in the inline policy; removePolicy: the role's
	// inline policy holds some (they are removed, the policy deleted with its last statement).
	policyOwner  string
	removePolicy bool
	steps        *steps.Plan
	// keptRole says why a role asked to be deleted was kept (another run joined it since the plan).
	keptRole error
	// goneAlready: the role asked to be deleted does not exist (an interrupted run deleted it): its lock goes.
	goneAlready bool
}

// PlanUnlink reads the ServiceAccount and its role and computes the change. Statements that are not ours are
// never touched. A role whose ARN (path included) is not the annotation's is left alone.
func (s *Setup) PlanUnlink(ctx context.Context, req UnlinkRequest) (*UnlinkPlan, error) {
	sa, err := readServiceAccount(ctx, s.Kube, req.Namespace, req.ServiceAccount, false)
	if err != nil {
		return nil, err
	}
	if sa.RoleARN == "" { // already unlinked: nothing to do (unlink is idempotent)
		res := api.NewResult("UnlinkResult")
		res.DryRun, res.Unchanged = req.DryRun, true
		res.Role = &api.RoleInfo{}
		res.ServiceAccounts = []api.ServiceAccountRef{{Namespace: sa.Namespace, Name: sa.Name, Subject: trust.Subject(sa.Namespace, sa.Name), Audience: sa.Audience}}
		p := &UnlinkPlan{s: s, res: res, sa: sa, steps: &steps.Plan{}}
		p.steps.Add(&steps.Step{Action: api.Action{Op: "=", Resource: "serviceaccount/" + sa.Namespace + "/" + sa.Name,
			Detail: "no " + iamref.RoleARNAnnotation + " annotation: nothing to do", Status: api.StatusUnchanged}})
		return p, nil
	}
	role, err := iamref.ParseRole(sa.RoleARN)
	if err != nil {
		return nil, fmt.Errorf("serviceaccount %s/%s: %w; fix it with kubectl irsa annotate --overwrite", req.Namespace, req.ServiceAccount, err)
	}
	if !req.DryRun {
		if err := checkCanWrite(ctx, s.Kube, req.Namespace, req.ServiceAccount, false); err != nil {
			return nil, err
		}
	}
	mode := releaseKeep
	if req.DeleteRole {
		mode = releaseDelete
	}
	p, err := s.planRelease(ctx, sa, role, req, mode)
	if err != nil {
		return nil, err
	}
	p.plan()
	p.annotationStep()
	return p, nil
}

// releaseMode says what planRelease does with a role whose last subject is the ServiceAccount's.
type releaseMode int

const (
	// releaseKeep refuses: IAM rejects an empty trust (unlink without role deletion).
	releaseKeep releaseMode = iota
	// releaseDelete deletes the role, refusing when kubectl irsa did not create it or others are trusted.
	releaseDelete
	// releaseMove deletes the role when kubectl irsa created it, else keeps its trust and only removes the
	// ServiceAccount's statements (link --overwrite moving the ServiceAccount to another role).
	releaseMove
)

// planRelease reads role and plans taking the ServiceAccount off it: its subject out of the trust, its
// statements out of the inline policy, or the role deleted with its last subject (mode). The steps it adds do
// not touch the annotation.
func (s *Setup) planRelease(ctx context.Context, sa serviceAccountState, role iamref.Role, req UnlinkRequest, mode releaseMode) (*UnlinkPlan, error) {
	var err error
	if s, err = s.forAccount(ctx, role.Account); err != nil {
		return nil, err
	}
	provider := trust.NewProvider(role.Partition, role.Account, s.Issuer)
	subject := trust.Subject(req.Namespace, req.ServiceAccount)
	p := &UnlinkPlan{s: s, role: role, sa: sa, provider: provider, subject: subject, policyOwner: PolicySid(req.Namespace, req.ServiceAccount),
		steps: &steps.Plan{LockKeys: []string{role.ARN}}}
	res := api.NewResult("UnlinkResult")
	p.res = res
	res.Issuer = provider.HostPath
	res.DryRun = req.DryRun
	res.ServiceAccounts = []api.ServiceAccountRef{{Namespace: sa.Namespace, Name: sa.Name, Subject: subject, Audience: sa.Audience}}
	res.Role = &api.RoleInfo{Name: role.Name, ARN: role.ARN}

	got := state.ReadRole(ctx, s.IAM, role.Name)
	still := false
	switch {
	case got.Presence == state.Missing:
		res.Hints = append(res.Hints, fmt.Sprintf("role %s does not exist; only the annotation is removed", role.Name))
		p.goneAlready = req.DeleteRole
	case got.Presence == state.Unknown:
		return nil, got.ReadError()
	case got.ARN != role.ARN:
		res.Hints = append(res.Hints, fmt.Sprintf("the annotation names %s but IAM has role %s at %s: its trust is left alone; only the annotation is removed", role.ARN, role.Name, got.ARN))
	default:
		res.Role.Exists = true
		res.Role.Managed = isManaged(got.Tags)
		if p.oldTrust, err = trust.Parse(got.Trust); err != nil {
			return nil, fmt.Errorf("role %s: %w", role.Name, err)
		}
		p.newTrust = p.oldTrust.Clone()
		removed, err := p.newTrust.RemoveSubjects(provider, sa.Audience, subject)
		switch {
		case errors.Is(err, trust.ErrEmptyPolicy) && (req.DeleteRole || mode == releaseMove):
			p.removeSubject, p.newTrust = true, trust.New() // the role goes with its last subject
		case errors.Is(err, trust.ErrEmptyPolicy):
			return nil, &LastSubjectError{Role: role.Name, Subject: subject, Managed: res.Role.Managed}
		case err != nil:
			return nil, explainTrustError(role.Name, err)
		default:
			p.removeSubject = len(removed) > 0
			still = p.newTrust.Evaluate(trust.Claims{ProviderARN: provider.ARN, HostPath: provider.HostPath, Subject: subject, Audience: sa.Audience}).Allowed
		}
		switch err := p.planPolicy(ctx); {
		case isAccessDenied(err):
			res.Hints = append(res.Hints, fmt.Sprintf("could not read inline policy %s of role %s (%v): statement %s, if any, is left; remove it by hand", InlinePolicyName, role.Name, awsapi.Short(err), p.policyOwner))
		case err != nil:
			return nil, err
		}
		if others := p.newTrust.OtherProvidersListing(provider, subject); p.removePolicy && len(others) > 0 {
			p.removePolicy = false
			res.Hints = append(res.Hints, fmt.Sprintf("serviceaccount %s/%s keeps its statement %s of inline policy %s of role %s: the same ServiceAccount of another cluster (%s) is linked to the role and uses it; it goes with the last of them",
				req.Namespace, req.ServiceAccount, p.policyOwner, InlinePolicyName, role.Name, strings.Join(others, ", ")))
		}
		if p.removePolicy && req.AssociationRoleARN == role.ARN {
			p.removePolicy = false
			res.Hints = append(res.Hints, fmt.Sprintf("serviceaccount %s/%s keeps its statement %s of inline policy %s of role %s: its EKS Pod Identity association %s uses the role too",
				req.Namespace, req.ServiceAccount, p.policyOwner, InlinePolicyName, role.Name, req.AssociationID))
		}
	}
	if still {
		res.Hints = append(res.Hints, fmt.Sprintf("role %s still admits %s through a trust statement kubectl irsa did not write; left as is", role.Name, subject))
	}
	if mode == releaseMove && res.Role.Exists && len(p.newTrust.Statements) == 0 {
		if res.Role.Managed {
			p.deleteRole = true
		} else {
			p.removeSubject = false // IAM refuses an empty trust: the subject stays, its permissions go
			res.Hints = append(res.Hints, fmt.Sprintf("role %s trusts only %s and was not created by kubectl irsa: its trust is left as is (IAM refuses an empty trust), only the ServiceAccount's statements are removed; delete the role in IAM if nothing else uses it", role.Name, subject))
		}
	}
	if req.DeleteRole && res.Role.Exists {
		switch {
		case !res.Role.Managed:
			return nil, errorf(ErrRoleNotManaged, "role %s was not created by kubectl irsa (no %s tag): not deleting it", role.Name, ManagedByTagKey)
		case len(p.newTrust.Statements) > 0:
			return nil, errorf(ErrRoleInUse, "role %s still trusts other principals (%v): not deleting it", role.Name, remainingSubjects(p.newTrust))
		}
		p.deleteRole = true
	}
	if err := refuseEmptyTrust(role.Name, subject, p.newTrust, p.removeSubject, p.deleteRole, res.Role.Managed); err != nil {
		return nil, err
	}
	return p, nil
}

// plan orders the unlink's IAM writes: this subject out of the trust, its statements out of the inline policy;
// or the role deleted. The annotation goes after them (annotationStep), so an interrupted run leaves the
// annotation that finds the role for a re-run.
func (p *UnlinkPlan) plan() {
	role, w := p.role, p.s.writer()
	if p.removeSubject && !p.deleteRole {
		p.steps.Add(removeSubjectsStep(w, role.Name, p.provider, p.sa.Audience, []string{p.subject}))
	}
	if p.removePolicy && !p.deleteRole {
		st := removeOwnedStep(w, role.Name, p.policyOwner, p.policyStep())
		remove := st.Do
		st.Do = func(ctx context.Context) error {
			// checked again under the lock: the same ServiceAccount of another cluster may have joined the role
			cur, err := readTrust(ctx, w.iam, role.Name)
			if err != nil {
				return err
			}
			if len(cur.OtherProvidersListing(p.provider, p.subject)) > 0 {
				return steps.ErrUnchanged
			}
			return remove(ctx)
		}
		p.steps.Add(st)
	}
	if p.deleteRole {
		p.steps.Add(&steps.Step{
			Action: api.Action{Op: "-", Resource: "role/" + role.Name, Detail: "delete role (inline policies, managed policies detached)", Status: api.StatusPlanned},
			Do:     p.deleteIfLast,
		})
	}
}

// annotationStep removes the annotation, after every IAM step.
func (p *UnlinkPlan) annotationStep() {
	s, role := p.s, p.role
	p.steps.Add(&steps.Step{
		Action: api.Action{Op: "-", Resource: "serviceaccount/" + p.sa.Namespace + "/" + p.sa.Name, Detail: "remove annotation " + iamref.RoleARNAnnotation, Status: api.StatusPlanned},
		Do: func(ctx context.Context) error {
			return setRoleAnnotation(ctx, s.Kube, p.sa.Namespace, p.sa.Name, "", false)
		},
		Undo: func(ctx context.Context) error {
			return setRoleAnnotation(ctx, s.Kube, p.sa.Namespace, p.sa.Name, role.ARN, false)
		},
	})
}

// planPolicy reads the role's inline policy: this ServiceAccount's statements are removed from it.
func (p *UnlinkPlan) planPolicy(ctx context.Context) error {
	cur, err := readInlinePolicy(ctx, p.s.IAM, p.role.Name)
	if err != nil {
		return err
	}
	owned, err := ownedIn(cur, p.policyOwner)
	if err != nil {
		return fmt.Errorf("role %s inline policy %s: %w", p.role.Name, InlinePolicyName, err)
	}
	p.removePolicy = len(owned) > 0
	p.oldPolicy = cur
	return nil
}

// policyStep describes the removal of this ServiceAccount's statements from the inline policy as planned.
func (p *UnlinkPlan) policyStep() api.Action {
	res := "role/" + p.role.Name + "/policy/" + InlinePolicyName
	sids := []string{p.policyOwner}
	what := ""
	if owned, err := ownedIn(p.oldPolicy, p.policyOwner); err == nil && len(owned) > 0 {
		var allowed, denied []string
		sids, allowed, denied = statementsActions(owned)
		what = " " + describeActions(allowed, denied)
	}
	if next, err := setOwned(p.oldPolicy, p.policyOwner, nil); err == nil && next == "" {
		verb := " was its last)"
		if len(sids) > 1 {
			verb = " were its last)"
		}
		return api.Action{Op: "-", Resource: res, Detail: "delete inline policy (" + namedStatements(sids) + what + verb, Status: api.StatusPlanned}
	}
	return api.Action{Op: "~", Resource: res, Detail: "inline policy: remove " + namedStatements(sids) + what, Status: api.StatusPlanned}
}

// Result describes the plan.
func (p *UnlinkPlan) Result() *api.Result {
	res := api.DeepCopy(p.res)
	res.Actions = p.steps.Actions()
	return res
}

// Apply writes IAM first, under the role's lock: this ServiceAccount's subject is removed from the trust read
// under the lock and the write read back, and its statements from the inline policy; or, with DeleteRole, the
// role is deleted when a fresh read under the lock shows that nothing but this subject is trusted. The
// annotation goes last. A failure rolls back what the run changed (a deleted role cannot be restored).
func (p *UnlinkPlan) Apply(ctx context.Context) (*api.Result, error) {
	err := p.s.apply(ctx, p.steps, p.res.DryRun)
	res := p.Result()
	if err == nil && p.keptRole != nil {
		err = fmt.Errorf("annotation removed, but %w", p.keptRole)
	}
	p.roleDeleted(ctx, res)
	return res, err
}

// roleDeleted deletes the lock of the role this run deleted, or found deleted when asked to delete it (an
// interrupted run deleted it), even when the run was interrupted since.
func (p *UnlinkPlan) roleDeleted(ctx context.Context, res *api.Result) {
	if p.res.DryRun || p.role.ARN == "" {
		return
	}
	if p.deleteRole && p.keptRole == nil && stepDone(p.steps, "role/"+p.role.Name, "-") || p.goneAlready {
		p.s.deletedRole(context.WithoutCancel(ctx), res, p.role.ARN)
	}
}

// stepDone reports whether the plan's step on resource with op was done.
func stepDone(pl *steps.Plan, resource, op string) bool {
	for _, a := range pl.Actions() {
		if a.Resource == resource && a.Op == op && a.Status == api.StatusDone {
			return true
		}
	}
	return false
}

// deleteIfLast deletes the role when its current trust admits nothing but this subject; when another run joined
// it since the plan, only this subject is removed with its statements, the role is kept and keptRole says why.
func (p *UnlinkPlan) deleteIfLast(ctx context.Context) error {
	s, name, w := p.s, p.role.Name, p.s.writer()
	cur, err := readTrust(ctx, s.IAM, name)
	if err != nil {
		return err
	}
	_, err = cur.Clone().RemoveSubjects(p.provider, p.sa.Audience, p.subject)
	if errors.Is(err, trust.ErrEmptyPolicy) {
		return DeleteRole(ctx, s.IAM, name)
	}
	if err != nil {
		return explainTrustError(name, err)
	}
	if _, err := w.updateTrust(ctx, name, removeSubjectsMutation(p.provider, p.sa.Audience, []string{p.subject})); err != nil {
		return explainTrustError(name, err)
	}
	pol, err := readInlinePolicy(ctx, s.IAM, name)
	if err != nil {
		return err
	}
	if _, err := w.updatePolicy(ctx, name, pol, setOwnedMutation(name, p.policyOwner, nil, noSizeCheck)); err != nil {
		return err
	}
	left := cur.Clone()
	_, _ = left.RemoveSubjects(p.provider, p.sa.Audience, p.subject)
	p.keptRole = errorf(ErrRoleInUse, "role %s was not deleted: it now also trusts %v (joined since the plan); only %s was removed from its trust and its statement %s from inline policy %s", name, remainingSubjects(left), p.subject, p.policyOwner, InlinePolicyName)
	return nil
}

// isAccessDenied reports IAM's refusal of a call for a missing permission.
func isAccessDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "AccessDenied" || ae.ErrorCode() == "AccessDeniedException")
}

// remainingSubjects names what a trust policy still admits, for the refusal message.
func remainingSubjects(d *trust.Document) []string {
	var out []string
	for _, raw := range d.Statements {
		st, err := trust.ParseStatement(raw)
		if err != nil {
			continue
		}
		found := false
		for _, keys := range st.Condition {
			for key, values := range keys {
				if len(key) > 4 && key[len(key)-4:] == ":sub" {
					out = append(out, values...)
					found = true
				}
			}
		}
		if !found {
			out = append(out, "a statement without a sub condition")
		}
	}
	return out
}
