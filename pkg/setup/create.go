package setup

import (
	"context"
	"fmt"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// RoleRequest is what `kubectl irsa role create` is asked to do, already parsed and validated.
type RoleRequest struct {
	Name string
	// Subjects are the ServiceAccount subjects (system:serviceaccount:NS:NAME) to trust.
	Subjects    []string
	Permissions Permissions
	// TrustSizeLimit overrides the account's trust policy quota when > 0 (0: the account's, read from IAM).
	TrustSizeLimit int
	DryRun         bool
}

// RoleSpec returns the role a request asks for, in the caller's account, trusting the cluster's provider.
func (s *Setup) RoleSpec(ctx context.Context, req RoleRequest) (RoleSpec, error) {
	caller, err := s.caller(ctx)
	if err != nil {
		return RoleSpec{}, err
	}
	provider := trust.NewProvider(caller.Partition, caller.Account, s.Issuer)
	quota := TrustQuota{Size: state.DefaultTrustSizeQuota, Source: "IAM's default quota"}
	if req.TrustSizeLimit > 0 {
		quota = s.TrustQuotaFor(ctx, caller.Account, req.TrustSizeLimit)
	}
	return RoleSpec{
		Name: req.Name, Provider: provider, Audience: iamref.DefaultAudience, Subjects: req.Subjects,
		Permissions: req.Permissions, TrustQuota: quota, IssuerHostPath: provider.HostPath,
		Description: "IRSA role created by kubectl irsa",
	}, nil
}

// callerProvider reads the cluster's provider in the caller's account, for the default audience.
func (s *Setup) callerProvider(ctx context.Context) (ProviderState, error) {
	caller, err := s.caller(ctx)
	if err != nil {
		return ProviderState{}, err
	}
	return LookupProvider(ctx, s.IAM, caller.Partition, caller.Account, s.Issuer, iamref.DefaultAudience)
}

// RoleCreatePlan creates a role, or merges the subjects and permissions into an existing one.
type RoleCreatePlan struct {
	s     *Setup
	role  *RolePlan
	res   *api.Result
	steps *steps.Plan
}

// PlanRoleCreate reads the role and the cluster's provider and computes the change.
func (s *Setup) PlanRoleCreate(ctx context.Context, req RoleRequest) (*RoleCreatePlan, error) {
	spec, err := s.RoleSpec(ctx, req)
	if err != nil {
		return nil, err
	}
	caller, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	plan, quota, err := s.planRoleInQuota(ctx, caller.Account, req.TrustSizeLimit, spec)
	if err != nil {
		return nil, err
	}
	plan.LockKey = plan.ARN
	if plan.LockKey == "" {
		plan.LockKey = iamref.RoleARN(caller.Partition, caller.Account, "/", spec.Name)
	}
	st, err := s.callerProvider(ctx)
	if err != nil {
		return nil, err
	}
	res := api.NewResult("RoleResult")
	res.Issuer = spec.Provider.HostPath
	res.DryRun = req.DryRun
	res.Provider = &api.ProviderInfo{ARN: spec.Provider.ARN, Exists: st.Exists}
	res.Role = &api.RoleInfo{Name: spec.Name, ARN: plan.ARN, Exists: plan.Exists, Managed: plan.Managed || !plan.Exists}
	res.Unchanged = !plan.Changed()
	if quota.Note != "" {
		res.Hints = append(res.Hints, quota.Note)
	}
	if !st.Exists {
		res.Hints = append(res.Hints, "the cluster has no IAM OIDC provider yet, so the role cannot be assumed: run `kubectl irsa provider create`")
	}
	pl := &steps.Plan{Steps: plan.Steps(s.writer()), LockKeys: []string{plan.LockKey}}
	return &RoleCreatePlan{s: s, role: plan, res: res, steps: pl}, nil
}

// Result describes the plan.
func (p *RoleCreatePlan) Result() *api.Result {
	res := api.DeepCopy(p.res)
	res.Actions = p.steps.Actions()
	return res
}

// Apply writes the role; a failure rolls back what was written.
func (p *RoleCreatePlan) Apply(ctx context.Context) (*api.Result, error) {
	if p.res.DryRun || !p.role.Changed() {
		return p.Result(), nil
	}
	err := p.s.apply(ctx, p.steps, false)
	res := p.Result()
	if err != nil {
		return res, err
	}
	res.Hints = append(res.Hints, p.role.Notes...)
	res.Role.ARN, res.Role.Exists = p.role.ARN, true
	return res, nil
}

// ProviderPlan creates the cluster's IAM OIDC provider, or adds the default client ID to it.
type ProviderPlan struct {
	s     *Setup
	state ProviderState
	res   *api.Result
	steps *steps.Plan
}

// PlanProvider reads the provider of the cluster's issuer in the caller's account; the thumbprint is taken
// only when the provider must be created.
func (s *Setup) PlanProvider(ctx context.Context, dryRun bool) (*ProviderPlan, error) {
	st, err := s.callerProvider(ctx)
	if err != nil {
		return nil, err
	}
	res := api.NewResult("ProviderResult")
	res.Issuer = st.Provider.HostPath
	res.DryRun = dryRun
	res.Provider = &api.ProviderInfo{ARN: st.Provider.ARN, Exists: st.Exists}
	resource := "oidc-provider/" + st.Provider.HostPath
	pl := &steps.Plan{}
	switch {
	case st.Exists && st.MissingClientID == "":
		res.Unchanged = true
		pl.Add(&steps.Step{Action: api.Action{Op: "=", Resource: resource, Detail: "OIDC provider exists", Status: api.StatusUnchanged}})
	case st.Exists:
		pl.Add(&steps.Step{
			Action: api.Action{Op: "~", Resource: resource, Detail: "add client ID " + st.MissingClientID, Status: api.StatusPlanned},
			Do:     func(ctx context.Context) error { return AddClientID(ctx, s.IAM, st.Provider.ARN, st.MissingClientID) },
		})
	default:
		if s.Thumbprint != nil {
			tp, err := s.Thumbprint(ctx, s.Issuer)
			if err != nil {
				res.Provider.Note = fmt.Sprintf("thumbprint omitted (%v): IAM fetches and verifies the issuer's certificate itself", err)
			}
			res.Provider.Thumbprint = tp
		}
		tp := res.Provider.Thumbprint
		pl.Add(&steps.Step{
			Action: api.Action{Op: "+", Resource: resource, Detail: "create OIDC provider with client ID " + iamref.DefaultAudience, Status: api.StatusPlanned},
			Do: func(ctx context.Context) error {
				return CreateProviderStep(ctx, s.IAM, s.Issuer, st.Provider.ARN, iamref.DefaultAudience, tp)
			},
		})
	}
	return &ProviderPlan{s: s, state: st, res: res, steps: pl}, nil
}

// Result describes the plan.
func (p *ProviderPlan) Result() *api.Result {
	res := api.DeepCopy(p.res)
	res.Actions = p.steps.Actions()
	return res
}

// Apply creates the provider or adds the client ID.
func (p *ProviderPlan) Apply(ctx context.Context) (*api.Result, error) {
	if err := p.s.apply(ctx, p.steps, p.res.DryRun); err != nil {
		return nil, err
	}
	res := p.Result()
	if !res.DryRun && !p.state.Exists {
		res.Provider.Exists = true
	}
	return res, nil
}

// Compile-time checks that every write command has the one Plan shape.
var (
	_ Plan = (*LinkPlan)(nil)
	_ Plan = (*UnlinkPlan)(nil)
	_ Plan = (*AnnotatePlan)(nil)
	_ Plan = (*RoleCreatePlan)(nil)
	_ Plan = (*ProviderPlan)(nil)
)
