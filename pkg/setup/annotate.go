package setup

import (
	"context"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// AnnotateRequest is what `kubectl irsa annotate` is asked to do, already parsed and validated.
type AnnotateRequest struct {
	Namespace, ServiceAccount string
	Role                      iamref.Role
	Overwrite, Restart        bool
	DryRun                    bool
}

// AnnotatePlan sets the role annotation on an existing ServiceAccount.
type AnnotatePlan struct {
	s     *Setup
	req   AnnotateRequest
	res   *api.Result
	steps *steps.Plan
}

// PlanAnnotate reads the ServiceAccount and computes the change. No IAM call: the role is not checked.
func (s *Setup) PlanAnnotate(ctx context.Context, req AnnotateRequest) (*AnnotatePlan, error) {
	sa, err := readServiceAccount(ctx, s.Kube, req.Namespace, req.ServiceAccount, false)
	if err != nil {
		return nil, err
	}
	role := req.Role
	if sa.RoleARN != "" && sa.RoleARN != role.ARN && !req.Overwrite {
		return nil, errorf(ErrAnnotatedElsewhere, "serviceaccount %s/%s is already annotated with %s", req.Namespace, req.ServiceAccount, sa.RoleARN)
	}
	res := api.NewResult("AnnotateResult")
	res.DryRun = req.DryRun
	res.Role = &api.RoleInfo{Name: role.Name, ARN: role.ARN}
	res.ServiceAccounts = []api.ServiceAccountRef{{Namespace: sa.Namespace, Name: sa.Name, Subject: trust.Subject(sa.Namespace, sa.Name), Audience: sa.Audience}}
	resource := "serviceaccount/" + sa.Namespace + "/" + sa.Name
	p := &AnnotatePlan{s: s, req: req, res: res, steps: &steps.Plan{}}
	if sa.RoleARN == role.ARN {
		res.Unchanged = true
		p.steps.Add(&steps.Step{Action: api.Action{Op: "=", Resource: resource, Detail: "already annotated", Status: api.StatusUnchanged}})
		return p, nil
	}
	op := "+"
	if sa.RoleARN != "" {
		op = "~"
	}
	p.steps.Add(&steps.Step{
		Action: api.Action{Op: op, Resource: resource, Detail: "annotate " + iamref.RoleARNAnnotation + "=" + role.ARN, Status: api.StatusPlanned},
		Do: func(ctx context.Context) error {
			return setRoleAnnotation(ctx, s.Kube, req.Namespace, req.ServiceAccount, role.ARN, false)
		},
	})
	return p, nil
}

// Result describes the plan.
func (p *AnnotatePlan) Result() *api.Result {
	res := api.DeepCopy(p.res)
	res.Actions = p.steps.Actions()
	return res
}

// Apply writes the annotation, then restarts (or lists for restarting) the workloads whose pods predate it.
func (p *AnnotatePlan) Apply(ctx context.Context) (*api.Result, error) {
	if err := p.s.apply(ctx, p.steps, p.req.DryRun); err != nil {
		return nil, err
	}
	res := p.Result()
	return res, p.s.followUp(ctx, res, p.req.Namespace, p.req.ServiceAccount, p.req.Restart && !p.req.DryRun)
}
