package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/identityset"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// Ownership marks of an IdentitySet (docs/identityset.md): what a set owns, and so what --prune may remove.
const (
	// SetAnnotation on a ServiceAccount names the set that linked it.
	SetAnnotation = "irsa.kubectl-irsa.io/set"
	// SetTagKey on a role names the set that created it (beside ManagedByTagKey).
	SetTagKey = "kubectl-irsa.io/set"
)

// Drift classes `diff -f` names.
const (
	DriftProviderMissing       = "provider missing"
	DriftRoleMissing           = "role missing"
	DriftSubjectMissing        = "subject missing"
	DriftSubjectExtra          = "subject extra"
	DriftStatementMissing      = "statement missing"
	DriftStatementChanged      = "statement changed"
	DriftStatementExtra        = "statement extra"
	DriftPolicyNotAttached     = "managed policy not attached"
	DriftServiceAccountMissing = "serviceaccount missing"
	DriftServiceAccountExtra   = "serviceaccount extra"
	DriftAnnotationMissing     = "annotation missing"
	DriftAnnotationOther       = "annotation naming another role"
	DriftAssociationMissing    = "association missing"
	DriftAssociationOther      = "association pointing elsewhere"
	DriftAssociationExtra      = "association extra"
	DriftMechanismConflict     = "mechanism conflict"
)

// SetRequest is what `apply -f` and `diff -f` ask for: the IdentitySets, already loaded and validated.
type SetRequest struct {
	Sets []identityset.IdentitySet
	// Prune removes what a set marked and no longer lists; without it nothing is deleted.
	Prune, Restart, DryRun bool
	TrustSizeLimit         int
}

// setRole is one role of the sets (entries naming the same role merged), with its live state once read.
type setRole struct {
	ref       iamref.Role
	byName    bool
	set       string
	mechanism string
	sas       []*setSA
	managed   []iamref.Policy
	pod       identityset.PodIdentity
	s         *Setup
	provider  *ProviderState
	plan      *RolePlan
	// policy is the inline policy kubectl-irsa as read (normalised, "" for none).
	policy string
}

func (r *setRole) irsa() bool { return r.mechanism != identityset.MechanismPodIdentity }
func (r *setRole) pi() bool   { return r.mechanism != identityset.MechanismIRSA }

// setSA is one ServiceAccount of the sets and its live state.
type setSA struct {
	ns, name, set string
	role          *setRole
	perms         Permissions
	sa            serviceAccountState
	assoc         *ekstypes.PodIdentityAssociation
}

func (a *setSA) key() string { return a.ns + "/" + a.name }

// liveRole is a role a marked ServiceAccount uses that the sets do not list (read for --prune).
type liveRole struct {
	ref    iamref.Role
	s      *Setup
	exists bool
	trust  *trust.Document
	tags   map[string]string
	policy string
}

// SetPlan is the plan of apply -f: every read done, the drift named, nothing written.
type SetPlan struct {
	p       *PodIdentity
	req     SetRequest
	caller  awsapi.Caller
	roles   map[string]*setRole
	order   []string
	sas     map[string]*setSA
	live    map[string]serviceAccountState
	assocs  map[string]*ekstypes.PodIdentityAssociation
	pruned  map[string]*liveRole
	drift   []api.Drift
	info    []string
	hints   []string
	steps   *steps.Plan
	changed []*setSA
	missing error
	// thumbprints of the providers to create, by account ("" when not computed: IAM verifies the issuer itself).
	thumbprints map[string]string
}

// PlanSet reads live state once for the whole request (ServiceAccounts and namespaces in paged lists, the
// cluster's associations listed once, each role and provider read once, at most 8 reads in flight) and computes
// the drift and the ordered steps that repair it. It writes nothing.
func (p *PodIdentity) PlanSet(ctx context.Context, req SetRequest) (*SetPlan, error) {
	pl := &SetPlan{p: p, req: req, roles: map[string]*setRole{}, sas: map[string]*setSA{}, assocs: map[string]*ekstypes.PodIdentityAssociation{},
		pruned: map[string]*liveRole{}, thumbprints: map[string]string{}}
	var err error
	if pl.caller, err = p.caller(ctx); err != nil {
		return nil, err
	}
	if err := pl.resolve(); err != nil {
		return nil, err
	}
	if err := pl.readKube(ctx); err != nil {
		return nil, err
	}
	if err := pl.readAssociations(ctx); err != nil {
		return nil, err
	}
	if err := pl.readAWS(ctx); err != nil {
		return nil, err
	}
	if err := pl.readPruneRoles(ctx); err != nil {
		return nil, err
	}
	pl.plan()
	return pl, nil
}

// resolve groups the sets' entries by role and lists each ServiceAccount once.
func (pl *SetPlan) resolve() error {
	for _, set := range pl.req.Sets {
		for i, e := range set.Spec.Roles {
			ref, byName, err := pl.roleRef(e)
			if err != nil {
				return fmt.Errorf("set %s: spec.roles[%d]: %w", set.Metadata.Name, i, err)
			}
			r := pl.roles[ref.ARN]
			if r == nil {
				mech := e.Mechanism
				if mech == "" {
					mech = identityset.MechanismIRSA
				}
				r = &setRole{ref: ref, byName: byName, set: set.Metadata.Name, mechanism: mech}
				if e.PodIdentity != nil {
					r.pod = *e.PodIdentity
				}
				pl.roles[ref.ARN] = r
				pl.order = append(pl.order, ref.ARN)
			}
			for _, m := range e.ManagedPolicies {
				pol, err := iamref.ParsePolicy(m)
				if err != nil {
					return fmt.Errorf("set %s: spec.roles[%d].managedPolicies: %w", set.Metadata.Name, i, err)
				}
				if !slices.ContainsFunc(r.managed, func(x iamref.Policy) bool { return x.ARN == pol.ARN }) {
					r.managed = append(r.managed, pol)
				}
			}
			perms, err := entryPermissions(e)
			if err != nil {
				return fmt.Errorf("set %s: spec.roles[%d]: %w", set.Metadata.Name, i, err)
			}
			for _, key := range e.ServiceAccounts {
				ns, name, ok := strings.Cut(key, "/")
				if !ok || ns == "" || name == "" {
					return fmt.Errorf("set %s: spec.roles[%d]: serviceAccount %q: want NAMESPACE/NAME", set.Metadata.Name, i, key)
				}
				if pl.sas[key] != nil {
					return fmt.Errorf("serviceaccount %s is listed twice (sets %s and %s)", key, pl.sas[key].set, set.Metadata.Name)
				}
				a := &setSA{ns: ns, name: name, set: set.Metadata.Name, role: r, perms: perms}
				pl.sas[key] = a
				r.sas = append(r.sas, a)
			}
		}
	}
	sort.Strings(pl.order)
	return nil
}

// roleRef is the role of an entry: by ARN, or by name (and path) in the caller's account.
func (pl *SetPlan) roleRef(e identityset.Role) (iamref.Role, bool, error) {
	if e.ARN != "" {
		ref, err := iamref.ParseRole(e.ARN)
		return ref, false, err
	}
	path := e.Path
	if path == "" {
		path = "/"
	}
	arn := iamref.RoleARN(pl.caller.Partition, pl.caller.Account, path, e.Name)
	return iamref.Role{ARN: arn, Partition: pl.caller.Partition, Account: pl.caller.Account, Path: path, Name: e.Name}, true, nil
}

// entryPermissions are an entry's inline permissions: allow (one Allow statement of the sorted, deduplicated
// actions on "*") or policy (the statements as given).
func entryPermissions(e identityset.Role) (Permissions, error) {
	if len(e.Allow) > 0 {
		actions, err := ParseActions(e.Allow)
		if err != nil {
			return Permissions{}, err
		}
		slices.Sort(actions)
		return ActionsPolicy(slices.Compact(actions)), nil
	}
	if len(e.Policy) == 0 {
		return Permissions{}, nil
	}
	doc, err := json.Marshal(map[string]any{"Version": trust.Version, "Statement": e.Policy})
	if err != nil {
		return Permissions{}, err
	}
	return DocumentPolicy(doc)
}

// readKube lists the namespaces and the ServiceAccounts (paged lists, not one read per ServiceAccount): every
// namespace when pruning (a marked ServiceAccount may be anywhere), else those the sets name.
func (pl *SetPlan) readKube(ctx context.Context) error {
	kube := pl.p.Kube
	nss, err := cluster.ListNamespaces(ctx, kube)
	if err != nil {
		return err
	}
	exists := map[string]bool{}
	for _, n := range nss {
		exists[n.Name] = true
	}
	want := map[string]bool{}
	for _, a := range pl.sas {
		if !exists[a.ns] {
			return errorf(ErrNamespaceMissing, "namespace %q (of serviceaccount %s) not found: create it (kubectl create namespace %s)", a.ns, a.key(), a.ns)
		}
		want[a.ns] = true
	}
	pl.live = map[string]serviceAccountState{}
	add := func(list []corev1.ServiceAccount) {
		for _, sa := range list {
			pl.live[sa.Namespace+"/"+sa.Name] = serviceAccountState{Namespace: sa.Namespace, Name: sa.Name, Exists: true,
				RoleARN: sa.Annotations[iamref.RoleARNAnnotation], Audience: iamref.Audience(sa.Annotations), Annotations: sa.Annotations}
		}
	}
	all, err := cluster.ListServiceAccounts(ctx, kube, "")
	switch {
	case err == nil:
		add(all)
	case apierrors.IsForbidden(errors.Unwrap(err)) || apierrors.IsForbidden(err):
		if pl.req.Prune {
			return fmt.Errorf("--prune needs to list serviceaccounts in all namespaces to find those the set marked: %w", err)
		}
		for _, ns := range sortedKeys(want) {
			list, err := cluster.ListServiceAccounts(ctx, kube, ns)
			if err != nil {
				return err
			}
			add(list)
		}
	default:
		return err
	}
	for key, a := range pl.sas {
		a.sa = pl.live[key]
		if !a.sa.Exists {
			a.sa = serviceAccountState{Namespace: a.ns, Name: a.name, Audience: iamref.DefaultAudience}
		}
	}
	return nil
}

// marked are the live ServiceAccounts one of the sets marked (sorted).
func (pl *SetPlan) marked() []serviceAccountState {
	sets := map[string]bool{}
	for _, s := range pl.req.Sets {
		sets[s.Metadata.Name] = true
	}
	var out []serviceAccountState
	for _, key := range sortedKeys(pl.live) {
		if sa := pl.live[key]; sets[sa.Annotations[SetAnnotation]] {
			out = append(out, sa)
		}
	}
	return out
}

// needsAssociations: a role asks for Pod Identity, or a ServiceAccount of the sets may have an association that
// takes precedence over IRSA.
func (pl *SetPlan) readAssociations(ctx context.Context) error {
	p := pl.p
	needPI := slices.ContainsFunc(pl.order, func(arn string) bool { return pl.roles[arn].pi() })
	if p.EKS == nil || p.Cluster == "" {
		if needPI {
			return p.checkCluster()
		}
		pl.info = append(pl.info, "the EKS cluster name is unknown: Pod Identity associations were not looked up")
		return nil
	}
	list, err := state.ListAssociations(ctx, p.EKS, p.Cluster, "", "")
	if err != nil {
		return fmt.Errorf("could not check Pod Identity associations: %w", err)
	}
	relevant := map[string]bool{}
	for key := range pl.sas {
		relevant[key] = true
	}
	for _, sa := range pl.marked() {
		relevant[sa.Namespace+"/"+sa.Name] = true
	}
	list = slices.DeleteFunc(list, func(a state.Association) bool { return !relevant[a.Key()] })
	if failed := state.DescribeAssociations(ctx, p.EKS, p.Cluster, list); len(failed) > 0 {
		for _, err := range failed {
			return fmt.Errorf("could not check Pod Identity associations: %w", err)
		}
	}
	for _, a := range list {
		if a.Detail != nil {
			pl.assocs[a.Key()] = a.Detail
		}
	}
	for key, a := range pl.sas {
		a.assoc = pl.assocs[key]
	}
	return nil
}

// readAWS reads each account's provider and each role once, at most maxReads at a time.
func (pl *SetPlan) readAWS(ctx context.Context) error {
	p := pl.p
	accounts := map[string]*Setup{}
	providers := map[string]*ProviderState{}
	for _, arn := range pl.order {
		r := pl.roles[arn]
		if accounts[r.ref.Account] == nil {
			s, err := p.forAccount(ctx, r.ref.Account)
			if err != nil {
				return err
			}
			accounts[r.ref.Account] = s
		}
		r.s = accounts[r.ref.Account]
		if r.irsa() && providers[r.ref.Account] == nil {
			providers[r.ref.Account] = &ProviderState{}
		}
		r.provider = providers[r.ref.Account]
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxReads)
	for account, st := range providers {
		s := accounts[account]
		g.Go(func() error {
			ps, err := LookupProvider(gctx, s.IAM, pl.caller.Partition, account, s.Issuer, iamref.DefaultAudience)
			*st = ps
			return err
		})
	}
	for _, arn := range pl.order {
		r := pl.roles[arn]
		g.Go(func() error { return pl.readRole(gctx, r) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for account, st := range providers {
		if s := accounts[account]; !st.Exists && s.Thumbprint != nil {
			pl.thumbprints[account], _ = s.Thumbprint(ctx, s.Issuer)
		}
	}
	return nil
}

// maxReads bounds the concurrent reads of a plan.
const maxReads = 8

// readRole plans one role: its trust for the ServiceAccounts (subjects, our Pod Identity statement), their
// statements of the inline policy, the managed policies.
func (pl *SetPlan) readRole(ctx context.Context, r *setRole) error {
	spec := RoleSpec{Name: r.ref.Name, Audience: iamref.DefaultAudience,
		IssuerHostPath: trust.HostPath(pl.p.Issuer), Tags: map[string]string{SetTagKey: r.set},
		Description: fmt.Sprintf("Role of IdentitySet %s, created by kubectl irsa apply", r.set),
		Permissions: Permissions{Attach: r.managed}}
	if r.ref.Path != "/" {
		spec.Path = r.ref.Path
	}
	if r.irsa() {
		// the provider's ARN is known without its read (which runs concurrently)
		spec.Provider = trust.NewProvider(r.ref.Partition, r.ref.Account, pl.p.Issuer)
		for _, a := range r.sas {
			spec.Subjects = append(spec.Subjects, trust.Subject(a.ns, a.name))
		}
	}
	if r.pi() {
		spec.PodIdentity = &trust.PodIdentityRequest{}
	}
	for _, a := range r.sas {
		if a.perms.Document != "" {
			spec.Owners = append(spec.Owners, PolicyOwner{Sid: PolicySid(a.ns, a.name), Permissions: a.perms})
		}
	}
	// the one size check of every planner: IAM's default, the account's quota read only when over it
	plan, _, err := r.s.planRoleInQuota(ctx, r.ref.Account, pl.req.TrustSizeLimit, spec)
	if err != nil {
		return err
	}
	if plan.PolicyChanged {
		// statements that mean what the file says (actions in another order, as link wrote them) are not rewritten
		if err := plan.keepEquivalent(); err != nil {
			return err
		}
	}
	if len(spec.Owners) == 0 && plan.Exists {
		// no statement to write: read the policy all the same, to find the statements the set no longer lists
		if plan.OldPolicy, err = readInlinePolicy(ctx, r.s.IAM, r.ref.Name); err != nil {
			return err
		}
		plan.ForeignStatements = foreignIn(plan.OldPolicy)
	}
	if plan.Exists && plan.ARN != r.ref.ARN {
		if !r.byName {
			return errorf(ErrRoleMissing, "role %s does not exist: IAM has role %s at %s (the ARN must match, path included)", r.ref.ARN, r.ref.Name, plan.ARN)
		}
		return fmt.Errorf("role %s exists at %s, not at path %s: fix the path in the file (IAM cannot move a role)", r.ref.Name, plan.ARN, r.ref.Path)
	}
	plan.LockKey = r.ref.ARN
	r.plan = plan
	r.policy = plan.OldPolicy
	return nil
}

// readPruneRoles reads, once each, the roles that ServiceAccounts the sets marked use and the sets do not list
// (their trust, tags and inline policy): --prune and diff name what is left there.
func (pl *SetPlan) readPruneRoles(ctx context.Context) error {
	arns := map[string]bool{}
	for _, sa := range pl.marked() {
		if sa.RoleARN != "" && pl.roles[sa.RoleARN] == nil {
			arns[sa.RoleARN] = true
		}
		if a := pl.assocs[sa.Namespace+"/"+sa.Name]; a != nil && pl.roles[aws.ToString(a.RoleArn)] == nil {
			arns[aws.ToString(a.RoleArn)] = true
		}
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxReads)
	for arn := range arns {
		ref, err := iamref.ParseRole(arn)
		if err != nil {
			continue // an annotation that is not a role ARN: not ours to prune
		}
		g.Go(func() error {
			s, err := pl.p.forAccount(gctx, ref.Account)
			if err != nil {
				return err
			}
			lr := &liveRole{ref: ref, s: s}
			out, err := s.IAM.GetRole(gctx, &iam.GetRoleInput{RoleName: aws.String(ref.Name)})
			switch {
			case awsapi.IsNotFound(err):
			case err != nil:
				return fmt.Errorf("iam:GetRole %s: %w", ref.Name, awsapi.Short(err))
			case aws.ToString(out.Role.Arn) == ref.ARN:
				lr.exists, lr.tags = true, tagMap(out.Role.Tags)
				if lr.trust, err = trust.Parse(aws.ToString(out.Role.AssumeRolePolicyDocument)); err != nil {
					return fmt.Errorf("role %s: %w", ref.Name, err)
				}
				if lr.policy, err = readInlinePolicy(gctx, s.IAM, ref.Name); err != nil {
					return err
				}
			}
			mu.Lock()
			pl.pruned[arn] = lr
			mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}

// keepEquivalent drops the owners whose statements already mean what they want (compared as
// identityset.CanonicalStatement: Sid aside, lists as sorted sets) and plans the policy write again without them.
func (p *RolePlan) keepEquivalent() error {
	var keep []PolicyOwner
	for _, o := range p.Spec.Owners {
		want, err := o.Permissions.OwnedStatements(o.Sid)
		if err != nil {
			return err
		}
		had, err := ownedIn(p.OldPolicy, o.Sid)
		if err != nil {
			return err
		}
		if !sameMeaning(had, want) {
			keep = append(keep, o)
		}
	}
	p.Spec.Owners = keep
	wants, err := p.Spec.wants()
	if err != nil {
		return err
	}
	next, err := setOwnersMutation(p.Spec.Name, wants, otherInline{})(p.OldPolicy)
	if err != nil {
		return err
	}
	p.PolicyChanged = next != p.OldPolicy
	return nil
}

// sameMeaning reports whether two lists of statements mean the same, one by one.
func sameMeaning(a, b []json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, errX := identityset.CanonicalStatement(a[i])
		y, errY := identityset.CanonicalStatement(b[i])
		if errX != nil || errY != nil || x != y {
			return false
		}
	}
	return true
}
