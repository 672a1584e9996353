package setup

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// ErrCouldNotCheck: a read the plan needs failed (access denied, throttled, unreachable): nothing was written.
var ErrCouldNotCheck = errors.New("could not check")

// RetargetRequest is what `kubectl irsa retarget` is asked to do, already validated.
type RetargetRequest struct {
	// FromIssuer and ToIssuer are the OIDC issuers of the old and the new cluster; FromCluster and ToCluster their
	// EKS cluster names (their Pod Identity associations).
	FromIssuer, ToIssuer   string
	FromCluster, ToCluster string
	// Roles are role names (the caller's account) or ARNs; with All, every role of the caller's account, any path.
	Roles []string
	All   bool
	// RemoveOld plans the removal of the old issuer's subjects from kubectl irsa's statements (RemovePlan).
	RemoveOld, DryRun bool
	// TrustSizeLimit overrides the account's trust policy size quota (characters without whitespace); 0 reads
	// the quota of each role's account (Setup.CheckTrustInQuota).
	TrustSizeLimit int
}

// Retarget moves roles from one cluster's issuer to another's (blue/green upgrades). Setup's Kube is the new
// cluster's (its leases serialise the writes); FromEKS and ToEKS are the EKS clients of the two clusters' regions.
type Retarget struct {
	*Setup
	FromEKS, ToEKS EKSAPI
}

// RetargetPlan is the plan of a retarget: every read done, nothing written. Add copies the old issuer's subjects
// to the new one and recreates the Pod Identity associations; Remove (with RemoveOld) drops the old subjects.
type RetargetPlan struct {
	r       *Retarget
	Request RetargetRequest
	Caller  awsapi.Caller
	// Providers are the new issuer's IAM OIDC providers to ensure, one per account of the roles.
	Providers    []*retargetProvider
	Roles        []*RoleRetarget
	Associations []*AssociationRetarget
	Hints        []string
	add, remove  *steps.Plan
	// removeSteps are the remove plan's steps by role ARN.
	removeSteps map[string]*steps.Step
}

// RoleRetarget is one role's part of the plan.
type RoleRetarget struct {
	s         *Setup
	Name, ARN string
	From, To  trust.Provider
	// Grants are what the trust admits through the old issuer's provider, per audience.
	Grants []trust.Grant
	// Added are the subjects the new issuer must be given (audience-qualified keys: see grantKey); Removed those
	// of the old issuer's statement that RemoveOld drops.
	Added, Removed []string
	// Size is the trust's size once the new subjects are added; Quota the size it is checked against.
	Size, Quota int
	// ForeignOld: statements that are not kubectl irsa's still name the old provider (left for the user).
	ForeignOld bool
	// Tested is set by the caller once the role's ServiceAccounts were tested on the new cluster.
	Tests []api.RetargetTest
}

// AssociationRetarget is an old cluster's Pod Identity association and its copy on the new cluster.
type AssociationRetarget struct {
	api.RetargetAssociation
	// Exists: the new cluster has it already (same role, target role and session tags).
	Exists bool
}

type retargetProvider struct {
	s          *Setup
	state      ProviderState
	account    string
	audiences  []string
	missing    []string // client IDs the existing provider lacks
	thumbprint string
	note       string
}

// grantKey is an (audience, subject) pair as one string, what the add mutation reports as changed.
func grantKey(audience, subject string) string { return audience + " " + subject }

func splitGrantKey(k string) (audience, subject string) {
	audience, subject, _ = strings.Cut(k, " ")
	return audience, subject
}

// subjectsOf are the subjects of keys, without their audiences.
func subjectsOf(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		_, sub := splitGrantKey(k)
		out = append(out, sub)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// copyGrantsMutation gives provider to every exact subject grants admit (kubectl irsa's statement, one per
// provider and audience); the result must fit sizeLimit and no Deny may refuse a subject.
func copyGrantsMutation(to trust.Provider, grants []trust.Grant, sizeLimit int) mutation {
	return func(d *trust.Document) ([]string, error) {
		var changed []string
		for _, g := range grants {
			if len(g.Subjects) == 0 {
				continue
			}
			added, err := d.AddSubjectsChecked(to, g.Audience, g.Subjects...)
			if err != nil {
				return nil, err
			}
			if err := checkNotDenied(d, to, g.Audience, g.Subjects); err != nil {
				return nil, err
			}
			for _, sub := range added {
				changed = append(changed, grantKey(g.Audience, sub))
			}
		}
		if len(changed) > 0 && sizeLimit > 0 {
			if err := d.CheckSize(sizeLimit); err != nil {
				return nil, err
			}
		}
		return changed, nil
	}
}

// removeKeysMutation takes the (audience, subject) keys out of kubectl irsa's statements for provider p.
func removeKeysMutation(p trust.Provider, keys []string) mutation {
	return func(d *trust.Document) ([]string, error) {
		var changed []string
		for _, k := range keys {
			aud, sub := splitGrantKey(k)
			removed, err := d.RemoveSubjects(p, aud, sub)
			if err != nil {
				return nil, err
			}
			if len(removed) > 0 {
				changed = append(changed, k)
			}
		}
		return changed, nil
	}
}

// addKeysMutation puts the (audience, subject) keys back into kubectl irsa's statements for provider p (the
// undo of a removal).
func addKeysMutation(p trust.Provider, keys []string) mutation {
	return func(d *trust.Document) ([]string, error) {
		var changed []string
		for _, k := range keys {
			aud, sub := splitGrantKey(k)
			added, err := d.AddSubjectsChecked(p, aud, sub)
			if err != nil {
				return nil, err
			}
			if len(added) > 0 {
				changed = append(changed, k)
			}
		}
		return changed, nil
	}
}

// dropOldMutation removes the old issuer's subjects from kubectl irsa's statements, but only those the new
// issuer certainly admits (read under the lock): a subject the new cluster cannot use yet is kept.
func dropOldMutation(from, to trust.Provider, grants []trust.Grant) mutation {
	return func(d *trust.Document) ([]string, error) {
		var keys []string
		for _, g := range grants {
			for _, sub := range d.OwnSubjects(from, g.Audience) {
				if d.Evaluate(trust.Claims{ProviderARN: to.ARN, HostPath: to.HostPath, Subject: sub, Audience: g.Audience}).Verdict != trust.Admits {
					return nil, fmt.Errorf("the new issuer does not admit %s (audience %s) yet: its old subject is kept; run retarget without --remove-old first", sub, g.Audience)
				}
				keys = append(keys, grantKey(g.Audience, sub))
			}
		}
		return removeKeysMutation(from, keys)(d)
	}
}

// PlanRetarget reads the roles in scope, the new issuer's providers, and both clusters' associations, and computes
// every change. A read that fails is an ErrCouldNotCheck error naming every such read; nothing is written.
func (r *Retarget) PlanRetarget(ctx context.Context, req RetargetRequest) (*RetargetPlan, error) {
	p := &RetargetPlan{r: r, Request: req, removeSteps: map[string]*steps.Step{}}
	var err error
	if p.Caller, err = r.caller(ctx); err != nil {
		return nil, err
	}
	var unchecked []string
	roles, err := p.readRoles(ctx, &unchecked)
	if err != nil {
		return nil, err
	}
	if err := p.readAssociations(ctx, roles, &unchecked); err != nil {
		return nil, err
	}
	if len(unchecked) > 0 {
		return p, fmt.Errorf("%w (nothing was written): %s", ErrCouldNotCheck, strings.Join(unchecked, "; "))
	}
	if err := p.planRoles(ctx, roles); err != nil {
		return p, err
	}
	p.build()
	return p, nil
}

// readRole is a role read for the plan: its account's Setup and its trust.
type readRole struct {
	s       *Setup
	name    string
	arn     string
	account string
	doc     *trust.Document
	// named: asked for by the user (a role that admits nothing of the old issuer gets a hint).
	named bool
}

// readRoles reads the roles named (each with GetRole in its account) or, with All, lists the caller's account.
func (p *RetargetPlan) readRoles(ctx context.Context, unchecked *[]string) (map[string]*readRole, error) {
	out := map[string]*readRole{}
	if p.Request.All {
		lister, ok := p.r.IAM.(iam.ListRolesAPIClient)
		if !ok {
			return nil, errors.New("the IAM client cannot list roles")
		}
		list, err := state.ListRoles(ctx, lister)
		if err != nil {
			*unchecked = append(*unchecked, "the account's roles: "+err.Error())
			return out, nil
		}
		for _, role := range list {
			rr, err := p.parseRole(p.r.Setup, role)
			if err != nil {
				*unchecked = append(*unchecked, err.Error())
				continue
			}
			out[rr.arn] = rr
		}
		return out, nil
	}
	for _, ref := range p.Request.Roles {
		rr, err := p.readNamedRole(ctx, ref)
		switch {
		case errors.Is(err, ErrCouldNotCheck):
			*unchecked = append(*unchecked, err.Error())
		case err != nil:
			return nil, err
		default:
			rr.named = true
			out[rr.arn] = rr
		}
	}
	return out, nil
}

// readNamedRole reads a role by name (the caller's account) or ARN (its account's credentials).
func (p *RetargetPlan) readNamedRole(ctx context.Context, ref string) (*readRole, error) {
	s, name, wantARN := p.r.Setup, ref, ""
	if strings.HasPrefix(ref, "arn:") {
		role, err := iamref.ParseRole(ref)
		if err != nil {
			return nil, err
		}
		if s, err = s.forAccount(ctx, role.Account); err != nil {
			return nil, err
		}
		name, wantARN = role.Name, role.ARN
	}
	out, err := s.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	switch {
	case awsapi.IsNotFound(err):
		return nil, errorf(ErrRoleMissing, "role %s does not exist", ref)
	case err != nil:
		return nil, fmt.Errorf("%w role %s: iam:GetRole: %v", ErrCouldNotCheck, ref, awsapi.Short(err))
	case wantARN != "" && aws.ToString(out.Role.Arn) != wantARN:
		return nil, errorf(ErrRoleMissing, "role %s does not exist: IAM has role %s at %s (the ARN must match, path included)", wantARN, name, aws.ToString(out.Role.Arn))
	}
	return p.parseRole(s, *out.Role)
}

func (p *RetargetPlan) parseRole(s *Setup, role iamtypes.Role) (*readRole, error) {
	arn := aws.ToString(role.Arn)
	doc, err := trust.Parse(aws.ToString(role.AssumeRolePolicyDocument))
	if err != nil {
		return nil, fmt.Errorf("%w role %s: %v", ErrCouldNotCheck, arn, err)
	}
	ref, err := iamref.ParseRole(arn)
	if err != nil {
		return nil, fmt.Errorf("%w role %s: %v", ErrCouldNotCheck, arn, err)
	}
	return &readRole{s: s, name: aws.ToString(role.RoleName), arn: arn, account: ref.Account, doc: doc}, nil
}

// readAssociations lists the old cluster's Pod Identity associations (every page, each described) whose role is in
// scope (with All: every one), reads the roles they use, and looks each up on the new cluster.
func (p *RetargetPlan) readAssociations(ctx context.Context, roles map[string]*readRole, unchecked *[]string) error {
	r, req := p.r, p.Request
	list, err := state.ListAssociations(ctx, r.FromEKS, req.FromCluster, "", "")
	if err != nil {
		*unchecked = append(*unchecked, "the Pod Identity associations of cluster "+req.FromCluster+": "+err.Error())
		return nil
	}
	if req.All {
		// every association moves, whatever its role
	} else {
		named := map[string]bool{}
		for arn := range roles {
			named[arn] = true
		}
		if len(named) == 0 {
			return nil
		}
		defer func() {
			p.Associations = slices.DeleteFunc(p.Associations, func(a *AssociationRetarget) bool { return !named[a.RoleARN] })
		}()
	}
	for id, err := range state.DescribeAssociations(ctx, r.FromEKS, req.FromCluster, list) {
		*unchecked = append(*unchecked, fmt.Sprintf("Pod Identity association %s of cluster %s: %v", id, req.FromCluster, err))
	}
	for _, a := range list {
		if a.Detail == nil {
			continue
		}
		ar := &AssociationRetarget{RetargetAssociation: api.RetargetAssociation{Namespace: a.Namespace, ServiceAccount: a.ServiceAccount,
			RoleARN: aws.ToString(a.Detail.RoleArn), TargetRoleARN: aws.ToString(a.Detail.TargetRoleArn),
			DisableSessionTags: aws.ToBool(a.Detail.DisableSessionTags), FromID: a.ID}}
		p.Associations = append(p.Associations, ar)
	}
	for _, ar := range p.Associations {
		if !req.All && roles[ar.RoleARN] == nil {
			continue
		}
		existing, err := state.FindAssociation(ctx, r.ToEKS, req.ToCluster, ar.Namespace, ar.ServiceAccount)
		switch {
		case err != nil:
			*unchecked = append(*unchecked, fmt.Sprintf("the Pod Identity association of %s/%s on cluster %s: %v", ar.Namespace, ar.ServiceAccount, req.ToCluster, err))
			continue
		case existing == nil:
		case aws.ToString(existing.RoleArn) != ar.RoleARN:
			return errorf(ErrAssociatedElsewhere, "serviceaccount %s/%s has Pod Identity association %s on cluster %s with role %s, not %s: delete or update it first (nothing was written)",
				ar.Namespace, ar.ServiceAccount, aws.ToString(existing.AssociationId), req.ToCluster, aws.ToString(existing.RoleArn), ar.RoleARN)
		default:
			ar.Exists = true
			ar.ToID = aws.ToString(existing.AssociationId)
			if aws.ToString(existing.TargetRoleArn) != ar.TargetRoleARN || aws.ToBool(existing.DisableSessionTags) != ar.DisableSessionTags {
				p.Hints = append(p.Hints, fmt.Sprintf("Pod Identity association %s of %s/%s on cluster %s differs from the old one (target role or session tags): left as it is",
					ar.ToID, ar.Namespace, ar.ServiceAccount, req.ToCluster))
			}
		}
		if roles[ar.RoleARN] == nil {
			p.readAssociationRole(ctx, roles, ar.RoleARN, unchecked)
		}
	}
	return nil
}

// readAssociationRole reads a role only an association uses (to check its trust admits Pod Identity on the new
// cluster). A role of an account without credentials is noted, not read.
func (p *RetargetPlan) readAssociationRole(ctx context.Context, roles map[string]*readRole, arn string, unchecked *[]string) {
	if ref, err := iamref.ParseRole(arn); err == nil && ref.Account != p.Caller.Account {
		p.Hints = append(p.Hints, fmt.Sprintf("role %s is in another account: its trust was not read (EKS Pod Identity needs nothing new in it)", arn))
		return
	}
	rr, err := p.readNamedRole(ctx, arn)
	switch {
	case errors.Is(err, ErrCouldNotCheck):
		*unchecked = append(*unchecked, err.Error())
	case err != nil:
		*unchecked = append(*unchecked, fmt.Sprintf("role %s of a Pod Identity association: %v", arn, err))
	default:
		roles[arn] = rr
	}
}

// planRoles computes each role's trust change and the new providers it needs; a role whose trust would exceed
// the quota is refused before any write.
func (p *RetargetPlan) planRoles(ctx context.Context, roles map[string]*readRole) error {
	req := p.Request
	var tooLarge []string
	providers := map[string]*retargetProvider{}
	for _, arn := range sortedKeys(roles) {
		rr := roles[arn]
		ref, _ := iamref.ParseRole(arn)
		rt := &RoleRetarget{s: rr.s, Name: rr.name, ARN: arn,
			From: trust.NewProvider(ref.Partition, ref.Account, req.FromIssuer), To: trust.NewProvider(ref.Partition, ref.Account, req.ToIssuer)}
		rt.Grants = rr.doc.Grants(rt.From)
		for i, a := range p.Associations {
			if a.RoleARN == arn {
				if err := p.checkPodIdentityTrust(rr, p.Associations[i]); err != nil {
					return err
				}
			}
		}
		if len(rt.Grants) == 0 {
			if rr.named && !slices.ContainsFunc(p.Associations, func(a *AssociationRetarget) bool { return a.RoleARN == arn }) {
				p.Hints = append(p.Hints, fmt.Sprintf("role %s: its trust admits nothing through %s and no Pod Identity association of cluster %s uses it: nothing to do", rr.name, rt.From.HostPath, req.FromCluster))
			}
			if !slices.ContainsFunc(p.Associations, func(a *AssociationRetarget) bool { return a.RoleARN == arn }) {
				continue
			}
		}
		next := rr.doc.Clone()
		added, err := copyGrantsMutation(rt.To, rt.Grants, math.MaxInt)(next)
		if err != nil {
			return explainTrustError(rr.name, fmt.Errorf("role %s: %w", rr.name, err))
		}
		// The one size check of every planner: the account's quota, read only when over IAM's default.
		quota, err := rr.s.CheckTrustInQuota(ctx, rr.account, req.TrustSizeLimit, rr.name, next)
		var over *TrustTooLargeError
		if errors.As(err, &over) {
			tooLarge = append(tooLarge, fmt.Sprintf("role %s: %d characters with the new issuer's subjects, over %s of %d", rr.name, over.Budget.Size, quota.Source, quota.Size))
			continue
		}
		rt.Added, rt.Size, rt.Quota = added, next.Size(), quota.Size
		if req.RemoveOld {
			// What the removal would drop once the new subjects are in (on the planned document).
			if rt.Removed, err = dropOldMutation(rt.From, rt.To, rt.Grants)(next); err != nil {
				return explainTrustError(rr.name, fmt.Errorf("role %s: %w", rr.name, err))
			}
			rt.ForeignOld = len(next.Grants(rt.From)) > 0
		}
		for _, g := range rt.Grants {
			if len(g.Patterns) > 0 {
				p.Hints = append(p.Hints, fmt.Sprintf("role %s admits %s through %s (audience %s), which an exact statement cannot copy: add the same condition for %s by hand",
					rr.name, strings.Join(g.Patterns, ", "), rt.From.HostPath, g.Audience, rt.To.HostPath))
			}
			if len(g.Subjects) == 0 {
				continue
			}
			pr := providers[rr.account]
			if pr == nil {
				pr = &retargetProvider{s: rr.s, account: rr.account, state: ProviderState{Provider: rt.To}}
				providers[rr.account] = pr
			}
			if !slices.Contains(pr.audiences, g.Audience) {
				pr.audiences = append(pr.audiences, g.Audience)
			}
		}
		p.Roles = append(p.Roles, rt)
	}
	if len(tooLarge) > 0 {
		return errorf(ErrTrustTooLarge, "%s; nothing was written: request a higher trust policy size quota for the account (then give it as the limit), move these ServiceAccounts to EKS Pod Identity (no per-cluster statement), split the role, or remove subjects the role no longer needs",
			strings.Join(tooLarge, "; "))
	}
	for _, account := range sortedKeys(providers) {
		pr := providers[account]
		if err := pr.read(ctx, p.Request.ToIssuer); err != nil {
			return fmt.Errorf("%w (nothing was written): %v", ErrCouldNotCheck, err)
		}
		p.Providers = append(p.Providers, pr)
	}
	return nil
}

// checkPodIdentityTrust refuses an association whose role's trust certainly refuses EKS Pod Identity for the new
// cluster (a condition on the cluster's session tags, say); one it cannot decide gets a hint.
func (p *RetargetPlan) checkPodIdentityTrust(rr *readRole, a *AssociationRetarget) error {
	tags := map[string]string{}
	if !a.DisableSessionTags {
		tags = trust.PodIdentitySessionTags("", p.Request.ToCluster, a.Namespace, a.ServiceAccount)
	}
	ev := rr.doc.EvaluatePodIdentity(trust.PodIdentityRequest{Context: tags})
	if ev.Verdict == trust.Refuses {
		oldTags := map[string]string{}
		if !a.DisableSessionTags {
			oldTags = trust.PodIdentitySessionTags("", p.Request.FromCluster, a.Namespace, a.ServiceAccount)
		}
		if rr.doc.EvaluatePodIdentity(trust.PodIdentityRequest{Context: oldTags}).Verdict == trust.Refuses {
			p.Hints = append(p.Hints, fmt.Sprintf("role %s: its trust refuses EKS Pod Identity on the old cluster too, so the association of %s/%s gives no credentials on either: kubectl irsa link %s -n %s --pod-identity --role-arn %s fixes the trust",
				rr.name, a.Namespace, a.ServiceAccount, a.ServiceAccount, a.Namespace, rr.arn))
			return nil
		}
	}
	switch ev.Verdict {
	case trust.Refuses:
		return fmt.Errorf("role %s: its trust refuses %s for %s/%s on cluster %s (%s): fix the trust (a condition naming the old cluster?) before retargeting; nothing was written",
			rr.name, strings.Join(ev.Missing, " and "), a.Namespace, a.ServiceAccount, p.Request.ToCluster, trust.ServicePodIdentity)
	case trust.CannotTell:
		p.Hints = append(p.Hints, fmt.Sprintf("role %s: cannot tell locally whether its trust lets EKS Pod Identity in for cluster %s (it depends on %s): kubectl irsa test proves it",
			rr.name, p.Request.ToCluster, strings.Join(ev.UnknownKeys, ", ")))
	}
	return nil
}

// read looks up the new issuer's provider in the account, for every audience needed; a missing provider gets
// the issuer's thumbprint when it can be computed.
func (pr *retargetProvider) read(ctx context.Context, issuer string) error {
	ref := pr.state.Provider
	parts := strings.Split(ref.ARN, ":")
	for i, aud := range pr.audiences {
		st, err := LookupProvider(ctx, pr.s.IAM, parts[1], pr.account, issuer, aud)
		if err != nil {
			return err
		}
		if i == 0 {
			pr.state = st
		}
		if st.MissingClientID != "" {
			pr.missing = append(pr.missing, st.MissingClientID)
		}
	}
	if pr.state.Exists {
		return nil
	}
	pr.note = "thumbprint omitted: IAM fetches and verifies the issuer's certificate itself"
	if pr.s.Thumbprint != nil {
		if tp, err := pr.s.Thumbprint(ctx, issuer); err == nil {
			pr.thumbprint, pr.note = tp, ""
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// build orders the writes: each account's new provider, each role's trust (the new issuer's subjects), each
// association created on the new cluster (under its role's lock); and, apart, the removal of the old subjects.
func (p *RetargetPlan) build() {
	req := p.Request
	p.add = &steps.Plan{}
	p.remove = &steps.Plan{}
	for _, pr := range p.Providers {
		p.add.Add(pr.steps(req.ToIssuer)...)
	}
	for _, rt := range p.Roles {
		p.add.LockKeys = append(p.add.LockKeys, rt.ARN)
		p.add.Add(rt.addStep(rt.Quota))
		if req.RemoveOld && len(rt.Grants) > 0 {
			st := rt.removeStep()
			p.removeSteps[rt.ARN] = st
			p.remove.Add(st)
			p.remove.LockKeys = append(p.remove.LockKeys, rt.ARN)
		}
	}
	for _, a := range p.Associations {
		if !slices.Contains(p.add.LockKeys, a.RoleARN) {
			p.add.LockKeys = append(p.add.LockKeys, a.RoleARN)
		}
		p.add.Add(p.associationStep(a))
	}
}

func (pr *retargetProvider) steps(issuer string) []*steps.Step {
	s, arn := pr.s, pr.state.Provider.ARN
	host := "oidc-provider/" + pr.state.Provider.HostPath
	var out []*steps.Step
	missing := pr.missing
	if !pr.state.Exists {
		first := pr.audiences[0]
		missing = pr.audiences[1:]
		out = append(out, &steps.Step{
			Action: api.Action{Op: "+", Resource: host, Detail: "create OIDC provider with client ID " + first, Status: api.StatusPlanned},
			Do: func(ctx context.Context) error {
				return CreateProviderStep(ctx, s.IAM, issuer, arn, first, pr.thumbprint)
			},
			Undo: func(ctx context.Context) error { return DeleteProviderIfUnused(ctx, s.IAM, arn) }, UndoWhat: "delete OIDC provider " + arn,
		})
	} else if len(missing) == 0 {
		out = append(out, &steps.Step{Action: api.Action{Op: "=", Resource: host, Detail: "OIDC provider exists", Status: api.StatusUnchanged}})
	}
	for _, clientID := range missing {
		out = append(out, &steps.Step{
			Action: api.Action{Op: "~", Resource: host, Detail: "add client ID " + clientID, Status: api.StatusPlanned},
			Do:     func(ctx context.Context) error { return AddClientID(ctx, s.IAM, arn, clientID) },
			Undo: func(ctx context.Context) error {
				_, err := s.IAM.RemoveClientIDFromOpenIDConnectProvider(ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{
					OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(clientID)})
				return err
			},
			UndoWhat: "remove client ID " + clientID + " from OIDC provider " + arn,
		})
	}
	return out
}

// addStep merges the new issuer's subjects into the role's trust read under the lock (read back, re-merged);
// the undo removes only this run's delta.
func (rt *RoleRetarget) addStep(sizeLimit int) *steps.Step {
	res := "role/" + rt.Name
	if len(rt.Added) == 0 {
		detail := "trust already admits the same subjects through " + rt.To.HostPath
		switch {
		case len(rt.Grants) == 0:
			detail = "trust needs nothing for EKS Pod Identity"
		case !slices.ContainsFunc(rt.Grants, func(g trust.Grant) bool { return len(g.Subjects) > 0 }):
			detail = "no exact subject to copy (see the hint on its patterns)"
		}
		return &steps.Step{Action: api.Action{Op: "=", Resource: res, Detail: detail, Status: api.StatusUnchanged}}
	}
	w := rt.s.writer()
	var added []string
	return &steps.Step{
		Action: api.Action{Op: "~", Resource: res, Detail: "trust: add " + strings.Join(subjectsOf(rt.Added), ", ") + " through " + rt.To.HostPath, Status: api.StatusPlanned},
		Do: func(ctx context.Context) error {
			changed, err := w.updateTrust(ctx, rt.Name, copyGrantsMutation(rt.To, rt.Grants, sizeLimit))
			if err != nil {
				return explainTrustError(rt.Name, err)
			}
			if len(changed) == 0 {
				return steps.ErrUnchanged
			}
			added, rt.Added = changed, changed
			return nil
		},
		Undo: func(ctx context.Context) error {
			_, err := w.updateTrust(ctx, rt.Name, removeKeysMutation(rt.To, added))
			return explainTrustError(rt.Name, err)
		},
		UndoWhat: "remove this run's subjects for " + rt.To.HostPath + " from the trust of role " + rt.Name,
	}
}

// removeStep drops the old issuer's subjects from kubectl irsa's statements (those the new issuer admits, read
// under the lock); the undo puts back what it removed.
func (rt *RoleRetarget) removeStep() *steps.Step {
	res := "role/" + rt.Name
	if len(rt.Removed) == 0 {
		return &steps.Step{Action: api.Action{Op: "=", Resource: res, Detail: "trust has no kubectl irsa subject through " + rt.From.HostPath, Status: api.StatusUnchanged}}
	}
	w := rt.s.writer()
	var removed []string
	return &steps.Step{
		Action: api.Action{Op: "-", Resource: res, Detail: "trust: remove " + strings.Join(subjectsOf(rt.Removed), ", ") + " through " + rt.From.HostPath, Status: api.StatusPlanned},
		Do: func(ctx context.Context) error {
			changed, err := w.updateTrust(ctx, rt.Name, dropOldMutation(rt.From, rt.To, rt.Grants))
			if err != nil {
				return explainTrustError(rt.Name, err)
			}
			if len(changed) == 0 {
				return steps.ErrUnchanged
			}
			removed, rt.Removed = changed, changed
			return nil
		},
		Undo: func(ctx context.Context) error {
			_, err := w.updateTrust(ctx, rt.Name, addKeysMutation(rt.From, removed))
			return explainTrustError(rt.Name, err)
		},
		UndoWhat: "put back the subjects for " + rt.From.HostPath + " into the trust of role " + rt.Name,
	}
}

// associationStep creates the association on the new cluster (same namespace, ServiceAccount, role, target role
// and session tags); the undo deletes it.
func (p *RetargetPlan) associationStep(a *AssociationRetarget) *steps.Step {
	res := "podidentityassociation/" + a.Namespace + "/" + a.ServiceAccount
	if a.Exists {
		return &steps.Step{Action: api.Action{Op: "=", Resource: res, Detail: "association " + a.ToID + " on cluster " + p.Request.ToCluster + " already uses " + a.RoleARN, Status: api.StatusUnchanged}}
	}
	to := &PodIdentity{Setup: p.r.Setup, EKS: p.r.ToEKS, Cluster: p.Request.ToCluster}
	return &steps.Step{
		Action: api.Action{Op: "+", Resource: res, Detail: "create association in cluster " + p.Request.ToCluster + " with role " + a.RoleARN, Status: api.StatusPlanned},
		Do: func(ctx context.Context) error {
			// A concurrent run may have created it since the plan: creating a second would fail.
			if existing, err := to.FindAssociation(ctx, a.Namespace, a.ServiceAccount); err != nil {
				return err
			} else if existing != nil && aws.ToString(existing.RoleArn) == a.RoleARN {
				a.ToID = aws.ToString(existing.AssociationId)
				return steps.ErrUnchanged
			}
			id, err := to.createAssociation(ctx, a.Namespace, a.ServiceAccount, a.RoleARN, a.TargetRoleARN, a.DisableSessionTags)
			a.ToID = id
			return err
		},
		Undo:     func(ctx context.Context) error { return to.deleteAssociation(ctx, a.ToID) },
		UndoWhat: "delete the Pod Identity association of " + a.Namespace + "/" + a.ServiceAccount + " on cluster " + p.Request.ToCluster,
	}
}

// Changed reports whether the add plan, or the remove plan, writes anything.
func (p *RetargetPlan) Changed() bool { return p.add.Changed() || p.remove.Changed() }

// Apply writes the add plan (providers, trusts, associations); on failure this run's writes are rolled back.
func (p *RetargetPlan) Apply(ctx context.Context) error {
	return p.r.apply(ctx, p.add, p.Request.DryRun)
}

// Keep takes a role out of the remove plan before ApplyRemove: its old subjects stay (why says why).
func (p *RetargetPlan) Keep(roleARN, why string) {
	st := p.removeSteps[roleARN]
	if st == nil || st.Do == nil {
		return
	}
	st.Do, st.Undo = nil, nil
	st.Action.Op, st.Action.Status = "=", api.StatusFailed
	st.Action.Detail = "old subjects kept: " + why
	for _, rt := range p.Roles {
		if rt.ARN == roleARN {
			rt.Removed = nil // the result says what was removed, not what was planned
			p.Hints = append(p.Hints, "role "+rt.Name+": old subjects kept: "+why)
		}
	}
}

// Kept reports whether a role's removal was taken out of the plan (Keep).
func (p *RetargetPlan) Kept() bool {
	return slices.ContainsFunc(p.remove.Steps, func(s *steps.Step) bool { return s.Action.Status == api.StatusFailed && s.Do == nil })
}

// ApplyRemove writes the remove plan (RemoveOld): the old issuer's subjects dropped from each role kept in it.
func (p *RetargetPlan) ApplyRemove(ctx context.Context) error {
	return p.r.apply(ctx, p.remove, p.Request.DryRun)
}

// Result describes the plan and what ran, as a typed result.
func (p *RetargetPlan) Result() *api.RetargetResult {
	req := p.Request
	res := &api.RetargetResult{TypeMeta: api.TypeMeta("RetargetResult"), Roles: []api.RetargetRole{}, Actions: []api.Action{},
		From: api.RetargetCluster{Cluster: req.FromCluster, Issuer: req.FromIssuer}, To: api.RetargetCluster{Cluster: req.ToCluster, Issuer: req.ToIssuer},
		DryRun: req.DryRun, RemoveOld: req.RemoveOld, Hints: slices.Clone(p.Hints)}
	for _, pr := range p.Providers {
		if pr.account == p.Caller.Account || res.Provider == nil {
			res.Provider = &api.ProviderInfo{ARN: pr.state.Provider.ARN, Exists: pr.state.Exists, Thumbprint: pr.thumbprint, Note: pr.note}
		}
	}
	for _, rt := range p.Roles {
		role := api.RetargetRole{Name: rt.Name, ARN: rt.ARN, Added: subjectsOf(rt.Added), Removed: subjectsOf(rt.Removed),
			TrustSize: rt.Size, TrustQuota: rt.Quota, Tests: rt.Tests}
		for _, g := range rt.Grants {
			role.Subjects = append(role.Subjects, g.Subjects...)
			role.NotCopied = append(role.NotCopied, g.Patterns...)
		}
		if len(rt.Added) == 0 {
			role.Added = nil
		}
		if len(rt.Removed) == 0 {
			role.Removed = nil
		}
		if rt.ForeignOld {
			res.Hints = append(res.Hints, fmt.Sprintf("role %s: statements that are not kubectl irsa's still name %s: remove them by hand once the old cluster is gone", rt.Name, rt.From.ARN))
		}
		res.Roles = append(res.Roles, role)
	}
	for _, a := range p.Associations {
		res.Associations = append(res.Associations, a.RetargetAssociation)
	}
	res.Actions = append(p.add.Actions(), p.remove.Actions()...)
	res.Unchanged = !p.Changed()
	return res
}
