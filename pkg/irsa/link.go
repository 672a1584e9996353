package irsa

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// LinkRequest is what `kubectl irsa link` is asked to do.
type LinkRequest struct {
	Namespace      string
	ServiceAccount string
	// RoleName or RoleARN picks the role; with neither, a name is derived from the cluster, namespace and SA.
	RoleName string
	RoleARN  string
	// ClusterName feeds the default role name.
	ClusterName string
	// Actions (--allow), PolicyFile (--policy-file) and AttachPolicyARNs grant permissions.
	Actions          []string
	PolicyFile       []byte
	AttachPolicyARNs []string
	// CreateServiceAccount creates a missing ServiceAccount; Overwrite replaces a different role annotation.
	CreateServiceAccount bool
	Overwrite            bool
	// Restart rolls the workloads using the ServiceAccount once it is annotated.
	Restart bool
	// NoCreateProvider refuses to create a missing IAM OIDC provider.
	NoCreateProvider bool
	DryRun           bool
	TrustSizeLimit   int
}

// Linker links ServiceAccounts to IAM roles: IAM OIDC provider, role trust and permissions, annotation.
type Linker struct {
	Kube kubernetes.Interface
	IAM  IAMAPI
	STS  STSAPI
	// Issuer is the cluster's OIDC issuer URL.
	Issuer string
	// Thumbprint computes the provider thumbprint; nil leaves it out.
	Thumbprint Thumbprinter
	// Now is the clock for restart annotations.
	Now func() time.Time
}

// LinkPlan is the validated plan of a link: every read done, nothing written.
type LinkPlan struct {
	Request        LinkRequest
	Caller         Caller
	Provider       ProviderState
	Thumbprint     string
	ThumbprintNote string
	Role           *RolePlan
	RoleARN        string
	SA             serviceAccountState
	// Annotate: the ServiceAccount's annotation must be written (or the ServiceAccount created).
	Annotate bool
}

// Validate checks the request's own syntax, before any call.
func (r *LinkRequest) Validate() error {
	if err := ValidateNamespace(r.Namespace); err != nil {
		return err
	}
	if err := ValidateServiceAccountName(r.ServiceAccount); err != nil {
		return err
	}
	if r.RoleName != "" && r.RoleARN != "" {
		return errors.New("use --role-name or --role-arn, not both")
	}
	if r.RoleName != "" {
		if err := ValidateRoleName(r.RoleName); err != nil {
			return err
		}
	}
	if r.RoleARN != "" {
		if _, err := ParseRoleARN(r.RoleARN); err != nil {
			return err
		}
	}
	if _, err := ParseActions(r.Actions); err != nil {
		return err
	}
	if _, err := PermissionsPolicy(r.Actions, r.PolicyFile); err != nil {
		return err
	}
	for _, a := range r.AttachPolicyARNs {
		if err := ValidatePolicyARN(a); err != nil {
			return err
		}
	}
	return nil
}

// Plan validates the request against live state (Kubernetes first, then AWS) and computes every change.
func (l *Linker) Plan(ctx context.Context, req LinkRequest) (*LinkPlan, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if req.TrustSizeLimit == 0 {
		req.TrustSizeLimit = trust.DefaultSizeLimit
	}
	p := &LinkPlan{Request: req}
	var err error
	if p.SA, err = readServiceAccount(ctx, l.Kube, req.Namespace, req.ServiceAccount, req.CreateServiceAccount); err != nil {
		return nil, err
	}
	if !req.DryRun {
		if err := checkCanWrite(ctx, l.Kube, req.Namespace, req.ServiceAccount, !p.SA.Exists); err != nil {
			return nil, err
		}
	}
	if p.Caller, err = WhoAmI(ctx, l.STS); err != nil {
		return nil, err
	}
	roleName, partition, account := req.RoleName, p.Caller.Partition, p.Caller.Account
	if req.RoleARN != "" {
		a, _ := ParseRoleARN(req.RoleARN)
		roleName, partition, account = a.Name, a.Partition, a.Account
	}
	if roleName == "" {
		roleName = DefaultRoleName(req.ClusterName, req.Namespace, req.ServiceAccount)
	}

	if p.Provider, err = LookupProvider(ctx, l.IAM, partition, account, l.Issuer, p.SA.Audience); err != nil {
		return nil, err
	}
	if !p.Provider.Exists {
		if req.NoCreateProvider {
			return nil, fmt.Errorf("no IAM OIDC provider for %s in account %s: run `kubectl irsa provider create`, or drop --no-create-provider", l.Issuer, account)
		}
		p.ThumbprintNote = "thumbprint omitted: IAM fetches and verifies the issuer's certificate itself"
		if l.Thumbprint != nil {
			if tp, err := l.Thumbprint(ctx, l.Issuer); err == nil {
				p.Thumbprint, p.ThumbprintNote = tp, ""
			} else {
				p.ThumbprintNote = fmt.Sprintf("thumbprint omitted (%v): IAM fetches and verifies the issuer's certificate itself", err)
			}
		}
	}

	actions, _ := ParseActions(req.Actions)
	policy, _ := PermissionsPolicy(actions, req.PolicyFile)
	p.Role, err = PlanRole(ctx, l.IAM, RoleSpec{
		Name:             roleName,
		Provider:         p.Provider.Provider,
		Audience:         p.SA.Audience,
		Subjects:         []string{trust.Subject(req.Namespace, req.ServiceAccount)},
		Policy:           policy,
		AttachPolicyARNs: req.AttachPolicyARNs,
		TrustSizeLimit:   req.TrustSizeLimit,
		IssuerHostPath:   p.Provider.Provider.HostPath,
		Description:      fmt.Sprintf("IRSA role for system:serviceaccount:%s:%s, created by kubectl irsa", req.Namespace, req.ServiceAccount),
	})
	if err != nil {
		return nil, err
	}
	if req.RoleARN != "" && !p.Role.Exists {
		return nil, fmt.Errorf("role %s does not exist: --role-arn links an existing role; use --role-name %s to create it", req.RoleARN, roleName)
	}
	p.RoleARN = p.Role.ARN
	if p.RoleARN == "" {
		p.RoleARN = fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, roleName)
	}
	if p.SA.RoleARN != "" && p.SA.RoleARN != p.RoleARN && !req.Overwrite {
		return nil, fmt.Errorf("serviceaccount %s/%s is already annotated with %s: pass --overwrite to point it at %s", req.Namespace, req.ServiceAccount, p.SA.RoleARN, p.RoleARN)
	}
	p.Annotate = !p.SA.Exists || p.SA.RoleARN != p.RoleARN
	return p, nil
}

// Result describes the plan as a typed result, every action planned or unchanged.
func (p *LinkPlan) Result() *Result {
	r := NewResult("LinkResult")
	r.Issuer = p.Provider.Provider.HostPath
	r.Provider = &ProviderInfo{ARN: p.Provider.Provider.ARN, Exists: p.Provider.Exists, Thumbprint: p.Thumbprint, Note: p.ThumbprintNote}
	r.Role = &RoleInfo{Name: p.Role.Spec.Name, ARN: p.RoleARN, Exists: p.Role.Exists, Managed: p.Role.Managed || !p.Role.Exists}
	r.ServiceAccounts = []ServiceAccountRef{{Namespace: p.SA.Namespace, Name: p.SA.Name, Subject: trust.Subject(p.SA.Namespace, p.SA.Name), Audience: p.SA.Audience}}
	r.DryRun = p.Request.DryRun
	if !p.Provider.Exists {
		r.Actions = append(r.Actions, Action{Op: "+", Resource: "oidc-provider/" + p.Provider.Provider.HostPath, Detail: "create OIDC provider with client ID " + p.SA.Audience, Status: StatusPlanned})
	} else if p.Provider.MissingClientID != "" {
		r.Actions = append(r.Actions, Action{Op: "~", Resource: "oidc-provider/" + p.Provider.Provider.HostPath, Detail: "add client ID " + p.Provider.MissingClientID, Status: StatusPlanned})
	} else {
		r.Actions = append(r.Actions, Action{Op: "=", Resource: "oidc-provider/" + p.Provider.Provider.HostPath, Detail: "OIDC provider exists", Status: StatusUnchanged})
	}
	r.Actions = append(r.Actions, p.Role.Actions()...)
	sa := "serviceaccount/" + p.SA.Namespace + "/" + p.SA.Name
	switch {
	case !p.SA.Exists:
		r.Actions = append(r.Actions, Action{Op: "+", Resource: sa, Detail: "create with " + RoleARNAnnotation + "=" + p.RoleARN, Status: StatusPlanned})
	case p.Annotate:
		op := "+"
		if p.SA.RoleARN != "" {
			op = "~"
		}
		r.Actions = append(r.Actions, Action{Op: op, Resource: sa, Detail: "annotate " + RoleARNAnnotation + "=" + p.RoleARN, Status: StatusPlanned})
	default:
		r.Actions = append(r.Actions, Action{Op: "=", Resource: sa, Detail: "already annotated", Status: StatusUnchanged})
	}
	r.Unchanged = !p.Changed()
	return r
}

// Changed reports whether applying the plan writes anything.
func (p *LinkPlan) Changed() bool {
	return !p.Provider.Exists || p.Provider.MissingClientID != "" || p.Role.Changed() || p.Annotate
}

// Apply writes the plan: IAM first, then Kubernetes. When a step fails, every write of this run is rolled
// back and the error says what was rolled back. Restarts (when asked) come last and are not rolled back.
func (l *Linker) Apply(ctx context.Context, p *LinkPlan) (*Result, error) {
	res := p.Result()
	if p.Request.DryRun || !p.Changed() {
		if !p.Request.DryRun {
			markAll(res, StatusPlanned, StatusUnchanged)
		}
		return res, l.followUp(ctx, p, res)
	}
	undo := &Undo{}
	fail := func(err error) (*Result, error) { return undo.fail(ctx, res, err) }
	step := 0
	done := func() {
		for step < len(res.Actions) && res.Actions[step].Status != StatusPlanned {
			step++
		}
		if step < len(res.Actions) {
			res.Actions[step].Status = StatusDone
		}
	}
	if !p.Provider.Exists {
		if err := CreateProvider(ctx, l.IAM, l.Issuer, p.SA.Audience, p.Thumbprint); err != nil {
			return fail(err)
		}
		arn := p.Provider.Provider.ARN
		undo.Push("delete OIDC provider "+arn, func(ctx context.Context) error { return DeleteProvider(ctx, l.IAM, arn) })
		done()
	} else if p.Provider.MissingClientID != "" {
		arn, clientID := p.Provider.Provider.ARN, p.Provider.MissingClientID
		if err := AddClientID(ctx, l.IAM, arn, clientID); err != nil {
			return fail(err)
		}
		undo.Push("remove client ID "+clientID+" from OIDC provider", func(ctx context.Context) error {
			_, err := l.IAM.RemoveClientIDFromOpenIDConnectProvider(ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{
				OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(clientID)})
			return err
		})
		done()
	}
	if err := ApplyRole(ctx, l.IAM, p.Role, undo); err != nil {
		return fail(err)
	}
	for _, a := range p.Role.Actions() {
		if a.Status == StatusPlanned {
			done()
		}
	}
	res.Role.ARN = p.Role.ARN
	if p.Annotate {
		if err := setRoleAnnotation(ctx, l.Kube, p.SA.Namespace, p.SA.Name, p.Role.ARN, !p.SA.Exists); err != nil {
			return fail(err)
		}
		done()
	}
	res.Role.Exists = true
	return res, l.followUp(ctx, p, res)
}

// followUp restarts (or lists for restarting) the workloads whose pods predate the annotation.
func (l *Linker) followUp(ctx context.Context, p *LinkPlan, res *Result) error {
	if !p.SA.Exists {
		return nil
	}
	pods, workloads, err := StalePods(ctx, l.Kube, p.SA.Namespace, p.SA.Name)
	if err != nil {
		return err
	}
	return restartOrHint(ctx, l.Kube, res, pods, workloads, p.Request.Restart && !p.Request.DryRun, l.now())
}

func (l *Linker) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// restartOrHint restarts the workloads, or adds hints naming the pods without credentials and the command.
func restartOrHint(ctx context.Context, kube kubernetes.Interface, res *Result, pods []string, workloads []Workload, restart bool, now time.Time) error {
	if len(pods) == 0 {
		return nil
	}
	if restart {
		for _, w := range workloads {
			if err := Restart(ctx, kube, w, now); err != nil {
				return err
			}
			res.Actions = append(res.Actions, Action{Op: "~", Resource: w.Namespace + "/" + w.String(), Detail: "rollout restart", Status: StatusDone})
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

func markAll(r *Result, from, to string) {
	for i := range r.Actions {
		if r.Actions[i].Status == from {
			r.Actions[i].Status = to
		}
	}
}
