package setup

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// RoleSpec is what a role must grant: trust for subjects through a provider, and permissions.
type RoleSpec struct {
	Name     string
	Provider trust.Provider
	Audience string
	Subjects []string
	// Permissions are the inline policy ("" document leaves inline policies alone) and managed policies.
	Permissions Permissions
	// PolicyOwner is the Sid of the statements these permissions own in the inline policy kubectl-irsa
	// (PolicySid of the ServiceAccount); empty: RoleCreateSid.
	PolicyOwner string
	// TrustQuota is the trust policy size quota applied to the role's account (Setup.TrustQuotaFor).
	TrustQuota TrustQuota
	// IssuerHostPath tags a created role with the cluster it serves.
	IssuerHostPath string
	// Description is set on a created role.
	Description string
	// PodIdentity, when set, adds our Pod Identity statement (EKS Pod Identity; the session tags known) to the
	// trust delta; with Subjects too, the role admits both (a migration window).
	PodIdentity *trust.PodIdentityRequest
	// Owners, when set, are several owners' statements of the inline policy, written in one step (apply -f: one
	// owner per ServiceAccount of the role); Permissions.Document and PolicyOwner are then not used.
	Owners []PolicyOwner
	// Path of a created role ("" for /); Tags are added to the tags kubectl irsa puts on a role it creates.
	Path string
	Tags map[string]string
}

// PolicyOwner is one owner's share of the inline policy: the Sid its statements carry and their permissions.
type PolicyOwner struct {
	Sid         string
	Permissions Permissions
}

// owners are the owners whose statements the spec writes (none: the inline policy is left alone).
func (s RoleSpec) owners() []PolicyOwner {
	if len(s.Owners) > 0 {
		return s.Owners
	}
	if s.Permissions.Document == "" {
		return nil
	}
	return []PolicyOwner{{Sid: s.policyOwner(), Permissions: s.Permissions}}
}

// wants are the owners' statements, each with its owner's Sids.
func (s RoleSpec) wants() ([]ownedWant, error) {
	var out []ownedWant
	for _, o := range s.owners() {
		want, err := o.Permissions.OwnedStatements(o.Sid)
		if err != nil {
			return nil, fmt.Errorf("role %s: %w", s.Name, err)
		}
		out = append(out, ownedWant{sid: o.Sid, want: want})
	}
	return out, nil
}

// trustAdd is the spec's trust delta: its subjects through Provider, and our Pod Identity statement.
func (s RoleSpec) trustAdd() mutation {
	var ms []mutation
	if len(s.Subjects) > 0 {
		ms = append(ms, addSubjectsMutation(s.Provider, s.Audience, s.Subjects, s.TrustQuota.Size))
	}
	if s.PodIdentity != nil {
		ms = append(ms, addPodIdentityMutation(*s.PodIdentity, s.TrustQuota.Size))
	}
	return chainMutations(ms...)
}

// trustRemove removes what trustAdd added (added: what it reported, subjects and the Pod Identity service).
func (s RoleSpec) trustRemove(added []string) mutation {
	var subjects []string
	podIdentity := false
	for _, a := range added {
		if a == trust.ServicePodIdentity {
			podIdentity = true
		} else {
			subjects = append(subjects, a)
		}
	}
	var ms []mutation
	if len(subjects) > 0 {
		ms = append(ms, removeSubjectsMutation(s.Provider, s.Audience, subjects))
	}
	if podIdentity {
		ms = append(ms, removePodIdentityMutation)
	}
	return chainMutations(ms...)
}

// RolePlan is what must change in IAM for a RoleSpec, read with at most three calls.
type RolePlan struct {
	Spec     RoleSpec
	ARN      string
	Exists   bool
	Managed  bool
	OldTrust *trust.Document
	NewTrust *trust.Document
	// Added are the subjects the trust does not admit yet.
	Added []string
	// PolicyChanged: this owner's statements of the inline policy must be written; HadPolicy: the role has the
	// inline policy already; OldPolicy is it as planned (normalised). ForeignStatements counts its statements
	// that are not kubectl irsa's (written by hand, or by an older kubectl irsa): they are kept.
	PolicyChanged     bool
	HadPolicy         bool
	OldPolicy         string
	ForeignStatements int
	// Attach are the managed policies not attached yet.
	Attach []string
	// LockKey is the ARN of the role's lock (the role's ARN, or the ARN the role will have).
	LockKey string
	// Notes are what the run could not check while applying, for the result's hints.
	Notes []string
	// Tags are the role's tags as read (nil when it does not exist).
	Tags map[string]string
	// other is the size of the role's other inline policies, read once (otherRead) before writing kubectl-irsa.
	other     otherInline
	otherRead bool
	// curPolicy is the inline policy read under the lock by the role step (curRead), for the policy step.
	curPolicy string
	curRead   bool
}

// PlanRole reads the role and computes the change. It writes nothing.
func PlanRole(ctx context.Context, client IAMAPI, spec RoleSpec) (*RolePlan, error) {
	p := &RolePlan{Spec: spec}
	role := state.ReadRole(ctx, client, spec.Name)
	var err error
	switch role.Presence {
	case state.Missing:
		p.OldTrust = trust.New()
	case state.Unknown:
		return nil, role.ReadError()
	default:
		p.Exists = true
		p.ARN = role.ARN
		p.Managed = isManaged(role.Tags)
		if p.OldTrust, err = trust.Parse(role.Trust); err != nil {
			p.Tags = role.Tags
			return nil, fmt.Errorf("role %s: %w", spec.Name, err)
		}
	}
	p.NewTrust = p.OldTrust.Clone()
	if p.Added, err = spec.trustAdd()(p.NewTrust); err != nil {
		var se *trust.SizeError
		if errors.As(err, &se) {
			return nil, tooLarge(spec.Name, p.NewTrust, spec.TrustQuota, err)
		}
		return nil, explainTrustError(spec.Name, fmt.Errorf("role %s: %w", spec.Name, err))
	}
	if len(spec.owners()) > 0 {
		if err := p.planPolicy(ctx, client); err != nil {
			return nil, err
		}
	}
	for _, a := range spec.Permissions.Attach {
		if _, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(a.ARN)}); err != nil {
			if awsapi.IsNotFound(err) {
				return nil, errorf(ErrManagedPolicyMissing, "managed policy %s does not exist", a.ARN)
			}
			return nil, fmt.Errorf("iam:GetPolicy %s: %w", a.ARN, awsapi.Short(err))
		}
		p.Attach = append(p.Attach, a.ARN)
	}
	if p.Exists && len(p.Attach) > 0 {
		attached, err := attachedPolicies(ctx, client, spec.Name)
		if err != nil {
			return nil, err
		}
		p.Attach = slices.DeleteFunc(p.Attach, func(a string) bool { return slices.Contains(attached, a) })
	}
	return p, nil
}

// policyOwner is the Sid of the spec's statements.
func (s RoleSpec) policyOwner() string {
	if s.PolicyOwner == "" {
		return RoleCreateSid
	}
	return s.PolicyOwner
}

// planPolicy reads the inline policy and merges this owner's statements into it: PolicyChanged when they differ
// from what the policy holds; a merged policy over IAM's size limit is refused before any write.
func (p *RolePlan) planPolicy(ctx context.Context, client IAMAPI) error {
	name := p.Spec.Name
	if p.Exists {
		cur, err := readInlinePolicy(ctx, client, name)
		if err != nil {
			return err
		}
		p.HadPolicy, p.OldPolicy, p.ForeignStatements = cur != "", cur, foreignIn(cur)
	}
	wants, err := p.Spec.wants()
	if err != nil {
		return err
	}
	next, err := setOwnersMutation(name, wants, otherInline{})(p.OldPolicy)
	if err != nil {
		return err
	}
	p.PolicyChanged = next != p.OldPolicy
	return nil
}

// policyHints name the statements of the inline policy kubectl irsa keeps without owning them, when this run
// writes permissions.
func (p *RolePlan) policyHints() []string {
	if len(p.Spec.owners()) == 0 || p.ForeignStatements == 0 {
		return nil
	}
	return []string{fmt.Sprintf("inline policy %s of role %s has %d statement(s) without a kubectl irsa Sid (written by hand, or the single statement of an older kubectl irsa): kept as is, granting every ServiceAccount of the role; delete them by hand once each ServiceAccount has been linked again",
		InlinePolicyName, p.Spec.Name, p.ForeignStatements)}
}

// Changed reports whether the plan writes anything.
func (p *RolePlan) Changed() bool {
	return !p.Exists || len(p.Added) > 0 || p.PolicyChanged || len(p.Attach) > 0
}

// Actions describes the plan's steps as actions, every one planned or unchanged.
func (p *RolePlan) Actions() []api.Action {
	var acts []api.Action
	for _, st := range p.Steps(nil) {
		acts = append(acts, st.Action)
	}
	return acts
}

// roleAction is the action of the role's creation or trust change.
func (p *RolePlan) roleAction() api.Action {
	name := p.Spec.Name
	if p.Spec.PodIdentity != nil {
		switch {
		case !p.Exists:
			return api.Action{Op: "+", Resource: "role/" + name, Detail: "create role trusting " + trust.ServicePodIdentity, Status: api.StatusPlanned}
		case len(p.Added) > 0:
			return api.Action{Op: "~", Resource: "role/" + name, Detail: "trust: add statement " + trust.PodIdentitySid + " for " + trust.ServicePodIdentity, Status: api.StatusPlanned}
		}
		return api.Action{Op: "=", Resource: "role/" + name, Detail: "trust already lets " + trust.ServicePodIdentity + " call sts:AssumeRole and sts:TagSession", Status: api.StatusUnchanged}
	}
	switch {
	case !p.Exists:
		return api.Action{Op: "+", Resource: "role/" + name, Detail: "create role trusting " + strings.Join(p.Added, ", "), Status: api.StatusPlanned}
	case len(p.Added) > 0:
		return api.Action{Op: "~", Resource: "role/" + name, Detail: "trust: add " + strings.Join(p.Added, ", "), Status: api.StatusPlanned}
	}
	return api.Action{Op: "=", Resource: "role/" + name, Detail: "trust already admits " + strings.Join(p.Spec.Subjects, ", "), Status: api.StatusUnchanged}
}

// Steps are the role's writes in order: the role created or its trust merged, this owner's statements of the
// inline policy, each managed policy attached. The executor holds the role's lock around them; w is nil for a
// description only. With ensure, the trust step runs even when the plan found the trust as wanted (it writes
// only if a concurrent run removed our delta since): a step that follows relies on it.
func (p *RolePlan) Steps(w *docWriter) []*steps.Step {
	return p.steps(w, false)
}

func (p *RolePlan) steps(w *docWriter, ensure bool) []*steps.Step {
	name := p.Spec.Name
	role := &steps.Step{Action: p.roleAction()}
	out := []*steps.Step{role}
	if w != nil && (!p.Exists || len(p.Added) > 0 || ensure) {
		p.roleDo(w, role)
	}
	if p.PolicyChanged {
		op := "+"
		if p.HadPolicy {
			op = "~"
		}
		act := api.Action{Op: op, Resource: "role/" + name + "/policy/" + InlinePolicyName, Detail: p.policyDetail(), Status: api.StatusPlanned}
		if w == nil {
			out = append(out, &steps.Step{Action: act})
		} else {
			out = append(out, p.policyStep(w, act))
		}
	} else if len(p.Spec.owners()) > 0 {
		out = append(out, &steps.Step{Action: api.Action{Op: "=", Resource: "role/" + name + "/policy/" + InlinePolicyName, Detail: "inline policy " + namedStatements(p.wantSids()) + " already as wanted", Status: api.StatusUnchanged}})
	}
	for _, a := range p.Attach {
		st := &steps.Step{Action: api.Action{Op: "+", Resource: "role/" + name, Detail: "attach " + a, Status: api.StatusPlanned}, UndoWhat: "detach " + a}
		if w != nil {
			arn := a
			st.Do = func(ctx context.Context) error {
				if _, err := w.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(arn)}); err != nil {
					return fmt.Errorf("iam:AttachRolePolicy %s %s: %w", name, arn, awsapi.Short(err))
				}
				return nil
			}
			st.Undo = func(ctx context.Context) error {
				_, err := w.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(arn)})
				return err
			}
		}
		out = append(out, st)
	}
	return out
}

// wantSids are the Sids of the owners' statements as planned.
func (p *RolePlan) wantSids() []string {
	wants, err := p.Spec.wants()
	if err != nil {
		return []string{p.Spec.policyOwner()}
	}
	var out []string
	for _, w := range wants {
		if len(w.want) == 0 {
			out = append(out, w.sid)
			continue
		}
		sids, _, _ := statementsActions(w.want)
		out = append(out, sids...)
	}
	return out
}

// policyDetail describes the write of this owner's statements: what they allow and deny, every Sid written,
// what they replace and the Sids they had that are removed. With several owners it names each owner whose
// statements change, and what they allow.
func (p *RolePlan) policyDetail() string {
	owners := p.Spec.owners()
	if len(owners) > 1 {
		var parts []string
		for _, o := range owners {
			want, err := o.Permissions.OwnedStatements(o.Sid)
			had, errHad := ownedIn(p.OldPolicy, o.Sid)
			if err != nil || errHad != nil || sameStatements(want, had) {
				continue
			}
			verb := "add "
			if len(had) > 0 {
				verb = "replace "
			}
			parts = append(parts, verb+"statement "+o.Sid+" "+o.Permissions.Summary())
		}
		return "inline policy: " + strings.Join(parts, "; ")
	}
	// One owner: the spec's own permissions, or the only entry of Owners (a set's role with one ServiceAccount).
	perms, owner := p.Spec.Permissions, p.Spec.policyOwner()
	if len(owners) == 1 {
		perms, owner = owners[0].Permissions, owners[0].Sid
	}
	sids := p.wantSids()
	detail := "inline policy " + perms.Summary() + " (" + namedStatements(sids) + ")"
	had, err := ownedIn(p.OldPolicy, owner)
	if err != nil || len(had) == 0 {
		return detail
	}
	oldSids, allowed, denied := statementsActions(had)
	replaced := strings.Join(allowed, ", ")
	if len(denied) > 0 {
		if replaced != "" {
			replaced += ", "
		}
		replaced += "denied " + strings.Join(denied, ", ")
	}
	if replaced == "" {
		replaced = "its previous " + namedStatements(oldSids)
	}
	detail += ", replacing " + replaced
	if gone := slices.DeleteFunc(oldSids, func(s string) bool { return slices.Contains(sids, s) }); len(gone) > 0 {
		detail += "; removing " + namedStatements(gone)
	}
	return detail
}

// roleDo makes the role step write: the role created with the trust planned (merged into the role a concurrent
// run created meanwhile), or the spec's delta merged into the trust read now (under the lock), read back and
// re-merged. The undo removes only this run's delta from the then-current trust; a role this run created is
// deleted when nothing else joined it. The inline policy is read first when the policy step follows, so a merge
// IAM would refuse (size) stops the run before the trust is touched.
func (p *RolePlan) roleDo(w *docWriter, role *steps.Step) {
	spec := p.Spec
	name := spec.Name
	var created bool
	var added []string
	role.Do = func(ctx context.Context) error {
		if p.PolicyChanged && p.Exists {
			if _, err := p.policyUnderLock(ctx, w.iam); err != nil {
				return err
			}
		}
		if !p.Exists {
			in := &iam.CreateRoleInput{
				RoleName:                 aws.String(name),
				AssumeRolePolicyDocument: aws.String(p.NewTrust.String()),
				Description:              aws.String(spec.Description),
				Tags:                     managedTags(spec.IssuerHostPath),
			}
			if spec.Path != "" {
				in.Path = aws.String(spec.Path)
			}
			for _, k := range slices.Sorted(maps.Keys(spec.Tags)) {
				in.Tags = append(in.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(spec.Tags[k])})
			}
			out, err := w.iam.CreateRole(ctx, in)
			switch {
			case isAlreadyExists(err): // created by a concurrent run since the plan: merge into it below
				p.Exists, p.Managed = true, true
				if p.PolicyChanged {
					if _, err := p.policyUnderLock(ctx, w.iam); err != nil {
						return err
					}
				}
			case err != nil:
				return fmt.Errorf("iam:CreateRole %s: %w", name, awsapi.Short(err))
			default:
				created, added = true, p.Added
				p.ARN = aws.ToString(out.Role.Arn)
				p.curPolicy, p.curRead = "", true // a created role has no inline policy
				role.UndoWhat = "remove this run's subjects from role " + name + " (deleted when none remain)"
				return nil
			}
		}
		var err error
		added, err = w.updateTrust(ctx, name, spec.trustAdd())
		if err != nil {
			return explainTrustError(name, err)
		}
		p.Added = added
		if p.ARN == "" {
			got := state.ReadRole(ctx, w.iam, name)
			if got.Presence != state.Found {
				return got.ReadError()
			}
			p.ARN = got.ARN
		}
		if len(added) == 0 {
			return steps.ErrUnchanged
		}
		role.UndoWhat = "remove this run's subjects from the trust of role " + name
		return nil
	}
	do := role.Do
	existed := p.Exists
	role.Do = func(ctx context.Context) error {
		err := do(ctx)
		if existed && awsapi.IsNotFound(err) {
			// deleted (unlink --delete-role, gc, prune) while this run waited for the role's lock
			return fmt.Errorf("role %s was deleted by another run since this one read it; run again (it creates the role afresh): %w", name, err)
		}
		return err
	}
	role.Undo = func(ctx context.Context) error {
		if created {
			return p.rollbackCreated(ctx, w, added)
		}
		_, err := w.updateTrust(ctx, name, spec.trustRemove(added))
		return explainTrustError(name, err)
	}
}

// policyUnderLock reads the inline policy once under the lock and checks this owner's statements fit into it.
func (p *RolePlan) policyUnderLock(ctx context.Context, client IAMAPI) (string, error) {
	if p.curRead {
		return p.curPolicy, nil
	}
	cur, err := p.checkPolicy(ctx, client)
	if err != nil {
		return "", err
	}
	p.curPolicy, p.curRead = cur, true
	return cur, nil
}

// checkPolicy reads the current inline policy (under the lock) and the size of the role's other inline policies,
// and checks that this owner's statements can be merged into it.
func (p *RolePlan) checkPolicy(ctx context.Context, client IAMAPI) (string, error) {
	cur, err := readInlinePolicy(ctx, client, p.Spec.Name)
	if err != nil {
		return "", err
	}
	if err := p.checkMerge(ctx, client, cur); err != nil {
		return "", err
	}
	return cur, nil
}

// checkMerge checks that this owner's statements merged into cur fit, with the role's other inline policies
// (read once), in IAM's size limit.
func (p *RolePlan) checkMerge(ctx context.Context, client IAMAPI, cur string) error {
	if err := p.readOtherInline(ctx, client); err != nil {
		return err
	}
	wants, err := p.Spec.wants()
	if err != nil {
		return err
	}
	_, err = setOwnersMutation(p.Spec.Name, wants, p.other)(cur)
	return err
}

// PrecheckPolicy checks, before a write that precedes ApplyRole, that the planned inline policy fits with the
// role's other inline policies (nothing is read when the run writes no policy to an existing role).
func (p *RolePlan) PrecheckPolicy(ctx context.Context, client IAMAPI) error {
	if !p.PolicyChanged || !p.Exists {
		return nil
	}
	return p.checkMerge(ctx, client, p.OldPolicy)
}

// rollbackCreated undoes the creation of a role: this run's subjects are removed from the current trust, and the
// role is deleted only when nothing else joined it since (another run's subject is never dropped).
func (p *RolePlan) rollbackCreated(ctx context.Context, w *docWriter, added []string) error {
	_, err := w.updateTrust(ctx, p.Spec.Name, p.Spec.trustRemove(added))
	switch {
	case errors.Is(err, trust.ErrEmptyPolicy):
		return DeleteRole(ctx, w.iam, p.Spec.Name)
	case err != nil:
		return err
	}
	return Kept(fmt.Sprintf("role %s: another run joined it since, so only this run's subjects were removed", p.Spec.Name))
}

// DeleteRole deletes a role after removing its inline policies and detaching its managed ones, as IAM requires.
func DeleteRole(ctx context.Context, client IAMAPI, roleName string) error {
	inline, err := state.InlinePolicyNames(ctx, client, roleName)
	if err != nil {
		return err
	}
	return deleteRoleWith(ctx, client, roleName, inline)
}

// deleteOwnRole deletes a role kubectl irsa created and no longer uses (prune, gc), unless it holds inline policies
// kubectl irsa did not write (permissions someone added by hand, which deleting the role would destroy): then it
// writes nothing and returns why the role is kept.
func deleteOwnRole(ctx context.Context, client IAMAPI, roleName string) (kept string, err error) {
	inline, err := state.InlinePolicyNames(ctx, client, roleName)
	if err != nil {
		return "", err
	}
	if others := slices.DeleteFunc(slices.Clone(inline), func(n string) bool { return n == InlinePolicyName }); len(others) > 0 {
		return fmt.Sprintf("role %s kept: it holds inline policies kubectl irsa did not write (%s); delete it by hand if nothing needs them", roleName, strings.Join(others, ", ")), nil
	}
	return "", deleteRoleWith(ctx, client, roleName, inline)
}

// deleteRoleWith deletes a role whose inline policy names were just listed: the policies, the attachments, the role.
func deleteRoleWith(ctx context.Context, client IAMAPI, roleName string, inline []string) error {
	name := aws.String(roleName)
	for _, p := range inline {
		if _, err := client.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(p)}); err != nil {
			return fmt.Errorf("iam:DeleteRolePolicy %s/%s: %w", roleName, p, awsapi.Short(err))
		}
	}
	attached, err := attachedPolicies(ctx, client, roleName)
	if err != nil {
		return err
	}
	for _, p := range attached {
		if _, err := client.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: aws.String(p)}); err != nil {
			return fmt.Errorf("iam:DetachRolePolicy %s: %w", roleName, awsapi.Short(err))
		}
	}
	if _, err := client.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name}); err != nil {
		return fmt.Errorf("iam:DeleteRole %s: %w", roleName, awsapi.Short(err))
	}
	return nil
}

// attachedPolicies lists the ARNs of every managed policy attached to a role, all pages.
func attachedPolicies(ctx context.Context, client IAMAPI, roleName string) ([]string, error) {
	attached, err := state.AttachedPolicies(ctx, client, roleName)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(attached))
	for _, p := range attached {
		out = append(out, p.ARN)
	}
	return out, nil
}
