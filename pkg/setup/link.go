package setup

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// LinkRequest is what `kubectl irsa link` is asked to do, already parsed and validated.
type LinkRequest struct {
	Namespace      string
	ServiceAccount string
	// RoleName, or RoleARN (an existing role), picks the role; with neither, a name is derived from
	// ClusterName, the namespace and the ServiceAccount.
	RoleName string
	RoleARN  *iamref.Role
	// RoleAccount is the account a role named by RoleName lives in (or is created in) when it is not the
	// caller's: that of the credentials given for another account. Empty: the caller's.
	RoleAccount string
	ClusterName string
	Permissions Permissions
	// CreateServiceAccount creates a missing ServiceAccount; Overwrite replaces a different role annotation.
	CreateServiceAccount bool
	Overwrite            bool
	// Restart rolls the workloads using the ServiceAccount once it is annotated.
	Restart bool
	// NoCreateProvider refuses to create a missing IAM OIDC provider.
	NoCreateProvider bool
	DryRun           bool
	// TrustSizeLimit overrides the account's trust policy quota when > 0 (0: the account's, read from IAM).
	TrustSizeLimit int
}

// LinkPlan is the plan of a link: every read done, nothing written.
type LinkPlan struct {
	s              *Setup
	Request        LinkRequest
	Caller         awsapi.Caller
	Provider       ProviderState
	Thumbprint     string
	ThumbprintNote string
	Role           *RolePlan
	// TrustQuota is the quota the role's trust was checked against.
	TrustQuota TrustQuota
	RoleARN    string
	SA         serviceAccountState
	// Annotate: the ServiceAccount's annotation must be written (or the ServiceAccount created).
	Annotate bool
	// steps are the writes, each with its action.
	steps *steps.Plan
	// moveFrom takes the ServiceAccount off the role it was annotated with (nil: none to take it off).
	moveFrom *UnlinkPlan
	hints    []string
}

// PlanLink checks the request against live state (Kubernetes first, then AWS) and computes every change.
func (s *Setup) PlanLink(ctx context.Context, req LinkRequest) (*LinkPlan, error) {
	var err error
	// A ServiceAccount already annotated keeps its role when no role is named: linking it again changes its
	// permissions on that role (with --role-name or --role-arn of another role, Overwrite moves it).
	sa, err := readServiceAccount(ctx, s.Kube, req.Namespace, req.ServiceAccount, req.CreateServiceAccount)
	if err != nil {
		return nil, err
	}
	reused := ""
	if req.RoleName == "" && req.RoleARN == nil && sa.RoleARN != "" {
		if role, err := iamref.ParseRole(sa.RoleARN); err == nil {
			req.RoleARN, req.RoleAccount, reused = &role, "", role.ARN
		}
	}
	// The role, its trust and the OIDC provider it names live in the role's account.
	switch {
	case req.RoleARN != nil:
		if s, err = s.forAccount(ctx, req.RoleARN.Account); err != nil {
			return nil, err
		}
	case req.RoleAccount != "":
		if s, err = s.forAccount(ctx, req.RoleAccount); err != nil {
			return nil, err
		}
	}
	p := &LinkPlan{s: s, Request: req, SA: sa}
	if !req.DryRun {
		if err := checkCanWrite(ctx, s.Kube, req.Namespace, req.ServiceAccount, !p.SA.Exists); err != nil {
			return nil, err
		}
	}
	if p.Caller, err = s.caller(ctx); err != nil {
		return nil, err
	}
	roleName, partition, account := req.RoleName, p.Caller.Partition, p.Caller.Account
	switch {
	case req.RoleARN != nil:
		roleName, partition, account = req.RoleARN.Name, req.RoleARN.Partition, req.RoleARN.Account
	case req.RoleAccount != "":
		account = req.RoleAccount
	}
	if roleName == "" {
		roleName = DefaultRoleName(req.ClusterName, req.Namespace, req.ServiceAccount)
	}

	if p.Provider, err = LookupProvider(ctx, s.IAM, partition, account, s.Issuer, p.SA.Audience); err != nil {
		return nil, err
	}
	if !p.Provider.Exists {
		if req.NoCreateProvider {
			return nil, errorf(ErrNoProvider, "no IAM OIDC provider for %s in account %s", s.Issuer, account)
		}
		p.ThumbprintNote = "thumbprint omitted: IAM fetches and verifies the issuer's certificate itself"
		if s.Thumbprint != nil {
			if tp, err := s.Thumbprint(ctx, s.Issuer); err == nil {
				p.Thumbprint, p.ThumbprintNote = tp, ""
			} else {
				p.ThumbprintNote = fmt.Sprintf("thumbprint omitted (%v): IAM fetches and verifies the issuer's certificate itself", err)
			}
		}
	}

	p.Role, p.TrustQuota, err = s.planRoleInQuota(ctx, account, req.TrustSizeLimit, RoleSpec{
		Name:           roleName,
		Provider:       p.Provider.Provider,
		Audience:       p.SA.Audience,
		Subjects:       []string{trust.Subject(req.Namespace, req.ServiceAccount)},
		Permissions:    req.Permissions,
		PolicyOwner:    PolicySid(req.Namespace, req.ServiceAccount),
		IssuerHostPath: p.Provider.Provider.HostPath,
		Description:    fmt.Sprintf("IRSA role for system:serviceaccount:%s:%s, created by kubectl irsa", req.Namespace, req.ServiceAccount),
	})
	if err != nil {
		return nil, err
	}
	if req.RoleARN != nil && !p.Role.Exists {
		if reused != "" {
			return nil, errorf(ErrRoleMissing, "serviceaccount %s/%s is annotated with role %s, which does not exist: name the role to create, or unlink the ServiceAccount first", req.Namespace, req.ServiceAccount, reused)
		}
		return nil, errorf(ErrRoleMissing, "role %s does not exist", req.RoleARN.ARN)
	}
	if req.RoleARN != nil && p.Role.ARN != req.RoleARN.ARN {
		return nil, errorf(ErrRoleMissing, "role %s does not exist: IAM has role %s at %s (the ARN must match, path included)", req.RoleARN.ARN, roleName, p.Role.ARN)
	}
	p.RoleARN = p.Role.ARN
	if p.RoleARN == "" {
		p.RoleARN = iamref.RoleARN(partition, account, "/", roleName)
	}
	p.Role.LockKey = p.RoleARN
	if p.Role.Exists && p.Role.PolicyChanged && p.Role.OldTrust != nil {
		owner, subject := PolicySid(req.Namespace, req.ServiceAccount), trust.Subject(req.Namespace, req.ServiceAccount)
		if had, _ := ownedIn(p.Role.OldPolicy, owner); len(had) > 0 {
			if others := p.Role.OldTrust.OtherProvidersListing(p.Provider.Provider, subject); len(others) > 0 {
				p.hints = append(p.hints, fmt.Sprintf("statement %s of role %s is shared with the same ServiceAccount of another cluster (%s): its pods get the new permissions too",
					owner, roleName, strings.Join(others, ", ")))
			}
		}
	}
	if p.SA.RoleARN != "" && p.SA.RoleARN != p.RoleARN && !req.Overwrite {
		return nil, errorf(ErrAnnotatedElsewhere, "serviceaccount %s/%s is already annotated with %s, not %s", req.Namespace, req.ServiceAccount, p.SA.RoleARN, p.RoleARN)
	}
	p.Annotate = !p.SA.Exists || p.SA.RoleARN != p.RoleARN
	if reused != "" {
		p.hints = append(p.hints, fmt.Sprintf("serviceaccount %s/%s is annotated with role %s: its permissions there are set; name another role with --overwrite to move it", req.Namespace, req.ServiceAccount, reused))
	}
	if p.SA.RoleARN != "" && p.SA.RoleARN != p.RoleARN {
		if err := p.planMove(ctx); err != nil {
			return nil, err
		}
	}
	p.steps = p.plan()
	return p, nil
}

// planMove plans taking the ServiceAccount off the role it was annotated with (Overwrite): its subject out of
// that role's trust and its statements out of that role's inline policy, or the role deleted when kubectl irsa
// created it and the ServiceAccount was its last subject. A role the annotation names that does not parse or does
// not exist is left alone.
func (p *LinkPlan) planMove(ctx context.Context) error {
	old, err := iamref.ParseRole(p.SA.RoleARN)
	if err != nil {
		return nil
	}
	rel, err := p.s.planRelease(ctx, p.SA, old, UnlinkRequest{Namespace: p.SA.Namespace, ServiceAccount: p.SA.Name, DryRun: p.Request.DryRun}, releaseMove)
	if err != nil {
		return fmt.Errorf("moving serviceaccount %s/%s off role %s: %w", p.SA.Namespace, p.SA.Name, old.ARN, err)
	}
	if rel.res.Role.Exists {
		rel.plan()
		p.moveFrom = rel
	}
	p.hints = append(p.hints, rel.res.Hints...)
	return nil
}

// plan orders the link's writes: the OIDC provider, the role (trust, policy, attachments), the annotation.
func (p *LinkPlan) plan() *steps.Plan {
	s := p.s
	pl := &steps.Plan{LockKeys: []string{p.RoleARN}}
	pl.Add(s.providerStep(p.Provider, p.SA.Audience, p.Thumbprint))
	pl.Add(p.Role.Steps(s.writer())...)
	switch {
	case p.Annotate:
		op := "+"
		if p.SA.RoleARN != "" {
			op = "~"
		}
		pl.Add(annotationStep(s.Kube, p.SA, op, annotationChange{RoleARN: p.RoleARN, ARN: p.roleARN}))
	default:
		pl.Add(&steps.Step{Action: api.Action{Op: "=", Resource: "serviceaccount/" + p.SA.Namespace + "/" + p.SA.Name, Detail: "already annotated", Status: api.StatusUnchanged}})
	}
	if p.moveFrom != nil {
		pl.LockKeys = append(pl.LockKeys, p.moveFrom.role.ARN)
		pl.Add(p.moveFrom.steps.Steps...)
	}
	return pl
}

// roleARN is the role's ARN as IAM answered it once written (the plan's before).
func (p *LinkPlan) roleARN() string {
	if p.Role.ARN != "" {
		return p.Role.ARN
	}
	return p.RoleARN
}

// Result describes the plan as a typed result, every action planned or unchanged.
func (p *LinkPlan) Result() *api.Result {
	r := api.NewResult("LinkResult")
	r.Issuer = p.Provider.Provider.HostPath
	r.Provider = &api.ProviderInfo{ARN: p.Provider.Provider.ARN, Exists: p.Provider.Exists, Thumbprint: p.Thumbprint, Note: p.ThumbprintNote}
	r.Role = &api.RoleInfo{Name: p.Role.Spec.Name, ARN: p.RoleARN, Exists: p.Role.Exists, Managed: p.Role.Managed || !p.Role.Exists}
	r.ServiceAccounts = []api.ServiceAccountRef{{Namespace: p.SA.Namespace, Name: p.SA.Name, Subject: trust.Subject(p.SA.Namespace, p.SA.Name), Audience: p.SA.Audience}}
	r.DryRun = p.Request.DryRun
	r.Actions = p.steps.Actions()
	r.Unchanged = !p.Changed()
	r.Hints = append(r.Hints, p.Role.policyHints()...)
	r.Hints = append(r.Hints, p.hints...)
	if p.TrustQuota.Note != "" {
		r.Hints = append(r.Hints, p.TrustQuota.Note)
	}
	return r
}

// Changed reports whether applying the plan writes anything.
func (p *LinkPlan) Changed() bool {
	return !p.Provider.Exists || p.Provider.MissingClientID != "" || p.Role.Changed() || p.Annotate || p.moveFrom != nil && p.moveFrom.steps.Changed()
}

// Apply writes the plan: IAM first, then Kubernetes. When a step fails, every write of this run is rolled
// back and the error says what was rolled back. Restarts (when asked) come last and are not rolled back.
func (p *LinkPlan) Apply(ctx context.Context) (*api.Result, error) {
	l := p.s
	// The provider is written before the role: check the inline policy's size (with the role's other inline
	// policies) first, so a refusal writes nothing; a dry run shows the refusal the real run would meet.
	if p.Changed() && (p.Request.DryRun || !p.Provider.Exists || p.Provider.MissingClientID != "") {
		if err := p.Role.PrecheckPolicy(ctx, l.IAM); err != nil {
			res := p.Result()
			if !p.Request.DryRun {
				res.MarkAll(api.StatusPlanned, api.StatusFailed)
				err = fmt.Errorf("%w (nothing was changed)", err)
			}
			return res, err
		}
	}
	err := l.apply(ctx, p.steps, p.Request.DryRun)
	res := p.Result()
	if m := p.moveFrom; m != nil {
		m.roleDeleted(ctx, res)
		if m.keptRole != nil {
			res.Hints = append(res.Hints, m.keptRole.Error())
		}
	}
	if err != nil {
		return res, err
	}
	if p.Request.DryRun || !p.Changed() {
		return res, p.followUp(ctx, res)
	}
	res.Hints = append(res.Hints, p.Role.Notes...)
	res.Role.ARN = p.roleARN()
	res.Role.Exists = true
	if err := interruptedAfterWrites(ctx, "the link of "+p.SA.Namespace+"/"+p.SA.Name+" to "+res.Role.ARN); err != nil {
		return res, err
	}
	return res, p.followUp(ctx, res)
}

// followUp restarts (or lists for restarting) the workloads whose pods predate the annotation.
func (p *LinkPlan) followUp(ctx context.Context, res *api.Result) error {
	if !p.SA.Exists {
		return nil
	}
	return p.s.followUp(ctx, res, p.SA.Namespace, p.SA.Name, p.Request.Restart && !p.Request.DryRun)
}

// followUp lists the ServiceAccount's pods that predate its annotation, and restarts their workloads or
// hints how to.
func (s *Setup) followUp(ctx context.Context, res *api.Result, namespace, name string, restart bool) error {
	pods, workloads, err := StalePods(ctx, s.Kube, namespace, name)
	if err != nil {
		return err
	}
	return restartOrHint(ctx, s.Kube, res, pods, workloads, restart, s.now())
}

// restartOrHint restarts the workloads, or adds hints naming the pods without credentials and the command.
func restartOrHint(ctx context.Context, kube kubernetes.Interface, res *api.Result, pods []string, workloads []Workload, restart bool, now time.Time) error {
	if len(pods) == 0 {
		return nil
	}
	if restart {
		for _, w := range workloads {
			if err := Restart(ctx, kube, w, now); err != nil {
				return err
			}
			res.Actions = append(res.Actions, api.Action{Op: "~", Resource: w.Namespace + "/" + w.String(), Detail: "rollout restart", Status: api.StatusDone})
		}
		return nil
	}
	res.Hints = append(res.Hints, fmt.Sprintf("%d running pod(s) predate the annotation and have no AWS credentials: %v", len(pods), pods))
	for _, w := range workloads {
		res.Hints = append(res.Hints, fmt.Sprintf("kubectl rollout restart %s -n %s", w, w.Namespace))
	}
	if len(workloads) == 0 {
		res.Hints = append(res.Hints, "delete and recreate those pods so the pod identity webhook injects the credentials")
	}
	return nil
}
