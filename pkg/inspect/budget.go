package inspect

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// BudgetAPI is the part of IAM `trust budget` reads; *iam.Client implements it.
type BudgetAPI interface {
	state.QuotaAPI
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	ListRoles(ctx context.Context, in *iam.ListRolesInput, optFns ...func(*iam.Options)) (*iam.ListRolesOutput, error)
}

// BudgetRequest is what `kubectl irsa trust budget` is asked: roles by name or ARN, or every role of the
// account whose trust admits an OIDC provider or EKS Pod Identity (All).
type BudgetRequest struct {
	Roles []string
	All   bool
	// Account and Provider are the caller's account and this cluster's provider in it (the headroom is counted
	// for this cluster); Audience is the ServiceAccounts' audience.
	Account  string
	Provider trust.Provider
	Audience string
	// Override replaces the account's quota when > 0.
	Override int
}

// TrustBudgetReport is the result of `kubectl irsa trust budget`.
type TrustBudgetReport struct {
	metav1.TypeMeta `json:",inline"`
	// Quota is the trust policy quota applied (characters without whitespace); QuotaSource says where it comes
	// from: "account" (iam:GetAccountSummary), "default" (IAM's, the account's could not be read) or "override".
	Quota       int    `json:"quota"`
	QuotaSource string `json:"quotaSource"`
	// Issuer is this cluster's issuer (host and path), for which the headroom is counted.
	Issuer    string            `json:"issuer"`
	Providers ProvidersBudget   `json:"providers"`
	Roles     []RoleTrustBudget `json:"roles"`
	Notes     []string          `json:"notes,omitempty"`
	// CouldNotCheck lists the roles that could not be read.
	CouldNotCheck []string `json:"couldNotCheck,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (r *TrustBudgetReport) DeepCopyObject() runtime.Object { return api.DeepCopy(r) }

// ProvidersBudget is the account's IAM OIDC providers against their quota; Count is -1 when it could not be
// read.
type ProvidersBudget struct {
	Count       int    `json:"count"`
	Quota       int    `json:"quota"`
	QuotaSource string `json:"quotaSource"`
}

// RoleTrustBudget is one role's trust size, broken down, and its headroom for this cluster.
type RoleTrustBudget struct {
	Name     string `json:"name"`
	ARN      string `json:"arn"`
	Size     int    `json:"size"`
	Quota    int    `json:"quota"`
	Headroom int    `json:"headroom"`
	// Percent is Size of Quota, rounded down.
	Percent     int             `json:"percent"`
	Envelope    int             `json:"envelope"`
	Providers   []ProviderShare `json:"providers"`
	PodIdentity int             `json:"podIdentity"`
	Foreign     int             `json:"foreign"`
	// ServiceAccountsThatFit is how many more ServiceAccounts of this cluster (subjects as long as the longest it
	// trusts now) fit; -1 when a wildcard admits them already; nil when our statement was edited by hand.
	ServiceAccountsThatFit *int `json:"serviceAccountsThatFit,omitempty"`
	// ClustersThatFit is how many more clusters, each trusting this cluster's subjects, fit.
	ClustersThatFit *int   `json:"clustersThatFit,omitempty"`
	Note            string `json:"note,omitempty"`
}

// ProviderShare is one OIDC provider's statements in a role's trust.
type ProviderShare struct {
	ARN         string `json:"arn"`
	Statements  int    `json:"statements"`
	Size        int    `json:"size"`
	ThisCluster bool   `json:"thisCluster,omitempty"`
}

// sampleSubject stands for the next ServiceAccount when the role trusts none of this cluster's yet.
const sampleSubject = "system:serviceaccount:default:service-account-name"

// TrustBudget reads the quotas and the roles and computes each role's budget. A role that cannot be read is a
// could-not-check line, never left out silently.
func TrustBudget(ctx context.Context, client BudgetAPI, req BudgetRequest) (*TrustBudgetReport, error) {
	q := state.ReadAccountQuotas(ctx, client, true)
	rep := &TrustBudgetReport{TypeMeta: api.TypeMeta("TrustBudgetReport"), Issuer: req.Provider.HostPath, Roles: []RoleTrustBudget{}}
	rep.Quota, rep.QuotaSource = q.TrustSize.Value, quotaSource(q.TrustSize)
	if req.Override > 0 {
		rep.Quota, rep.QuotaSource = req.Override, "override"
	} else if q.TrustSize.Note != "" {
		rep.Notes = append(rep.Notes, q.TrustSize.Note)
	}
	rep.Providers = ProvidersBudget{Count: q.Providers.Value, Quota: q.ProvidersQuota.Value, QuotaSource: quotaSource(q.ProvidersQuota)}
	if q.Providers.Read != state.Found {
		rep.Providers.Count = -1
		rep.CouldNotCheck = append(rep.CouldNotCheck, q.Providers.Note)
	}
	if q.ProvidersQuota.Note != "" && q.ProvidersQuota.Note != q.TrustSize.Note {
		rep.Notes = append(rep.Notes, q.ProvidersQuota.Note)
	}
	roles, err := budgetRoles(ctx, client, req, rep)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		rep.Roles = append(rep.Roles, RoleBudget(r.name, r.arn, r.trust, rep.Quota, req.Provider, req.Audience))
	}
	return rep, nil
}

func quotaSource(q state.Quota) string {
	if q.Read == state.Found {
		return "account"
	}
	return "default"
}

type budgetRole struct {
	name, arn string
	trust     *trust.Document
}

// budgetRoles reads the roles asked for: every page of ListRoles (roles under every path) for All, else each
// by name with GetRole.
func budgetRoles(ctx context.Context, client BudgetAPI, req BudgetRequest, rep *TrustBudgetReport) ([]budgetRole, error) {
	var out []budgetRole
	if req.All {
		pages := iam.NewListRolesPaginator(client, &iam.ListRolesInput{MaxItems: aws.Int32(listPageSize)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("iam:ListRoles: %w", awsapi.Short(err))
			}
			for _, r := range page.Roles {
				d, err := trust.Parse(aws.ToString(r.AssumeRolePolicyDocument))
				if err != nil {
					rep.CouldNotCheck = append(rep.CouldNotCheck, fmt.Sprintf("could not check role %s: %v", aws.ToString(r.RoleName), err))
					continue
				}
				if b := d.Budget(0); len(b.Providers) > 0 || b.PodIdentity > 0 {
					out = append(out, budgetRole{aws.ToString(r.RoleName), aws.ToString(r.Arn), d})
				}
			}
		}
		return out, nil
	}
	for _, ref := range req.Roles {
		name := ref
		if strings.HasPrefix(ref, "arn:") {
			r, err := iamref.ParseRole(ref)
			if err != nil {
				return nil, err
			}
			if r.Account != req.Account {
				rep.CouldNotCheck = append(rep.CouldNotCheck, fmt.Sprintf("could not check role %s: it is in account %s, not the caller's (%s): run with that account's credentials", ref, r.Account, req.Account))
				continue
			}
			name = r.Name
		}
		got, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		switch {
		case awsapi.IsNotFound(err):
			return nil, fmt.Errorf("role %s does not exist", ref)
		case err != nil:
			rep.CouldNotCheck = append(rep.CouldNotCheck, fmt.Sprintf("could not check role %s: iam:GetRole: %v", ref, awsapi.Short(err)))
			continue
		}
		d, err := trust.Parse(aws.ToString(got.Role.AssumeRolePolicyDocument))
		if err != nil {
			rep.CouldNotCheck = append(rep.CouldNotCheck, fmt.Sprintf("could not check role %s: %v", ref, err))
			continue
		}
		out = append(out, budgetRole{name, aws.ToString(got.Role.Arn), d})
	}
	return out, nil
}

// RoleBudget is the budget of one trust document against quota, with the headroom for provider (this cluster).
func RoleBudget(name, arn string, d *trust.Document, quota int, provider trust.Provider, audience string) RoleTrustBudget {
	b := d.Budget(quota)
	r := RoleTrustBudget{Name: name, ARN: arn, Size: b.Size, Quota: quota, Headroom: b.Headroom(), Envelope: b.Envelope,
		PodIdentity: b.PodIdentity, Foreign: b.Foreign, Providers: []ProviderShare{}}
	if quota > 0 {
		r.Percent = b.Size * 100 / quota
	}
	for _, p := range b.Providers {
		r.Providers = append(r.Providers, ProviderShare{ARN: p.ProviderARN, Statements: p.Statements, Size: p.Size, ThisCluster: p.ProviderARN == provider.ARN})
	}
	subjects := d.Subjects(provider)
	like := sampleSubject
	if len(subjects) > 0 {
		like = slices.MaxFunc(subjects, func(a, b string) int { return len(a) - len(b) })
	}
	if n, err := d.ServiceAccountsThatFit(provider, audience, like, quota); err == nil {
		r.ServiceAccountsThatFit = &n
	} else {
		r.Note = fmt.Sprintf("ServiceAccounts that fit not counted: %v", err)
	}
	clusterSubjects := subjects
	if len(clusterSubjects) == 0 {
		clusterSubjects = []string{like}
	}
	if n, err := d.ClustersThatFit(provider, audience, clusterSubjects, quota); err == nil {
		r.ClustersThatFit = &n
	}
	return r
}
