package inspect

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// AuditReport is the result of `kubectl irsa audit`.
type AuditReport struct {
	metav1.TypeMeta `json:",inline"`
	Scope           string           `json:"scope"`
	Roles           []string         `json:"roles"`
	Findings        []doctor.Finding `json:"findings"`
	Notes           []string         `json:"notes,omitempty"`
	// CouldNotCheck lists the roles or policies a failed read left unaudited.
	CouldNotCheck []string `json:"couldNotCheck,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (r *AuditReport) DeepCopyObject() runtime.Object { return api.DeepCopy(r) }

// Audit checks every role referenced by a ServiceAccount in scope, and every role of the caller's account
// whose trust names this cluster's provider, for dangerous or broken trust and permissions. A role that could
// not be read stays in the report's roles, with a could-not-check note.
func (in *Inspector) Audit(ctx context.Context, caller awsapi.Caller, namespace string) (*AuditReport, error) {
	rep := &AuditReport{TypeMeta: api.TypeMeta("AuditReport"), Scope: scopeName(namespace), Roles: []string{}, Findings: []doctor.Finding{}}
	sas, err := cluster.ListServiceAccounts(ctx, in.Kube, namespace)
	if err != nil {
		return nil, err
	}
	if len(sas) == 0 {
		if err := in.requireNamespace(ctx, namespace); err != nil {
			return nil, err
		}
	}
	existing := map[string]bool{}
	usedBy := map[string][]string{}
	referenced := map[string]iamref.Role{}
	var crossAccount []doctor.Finding
	for _, sa := range sas {
		existing[sa.Namespace+"/"+sa.Name] = true
		r, ok := annotatedRole(sa.Annotations)
		if !ok {
			continue
		}
		referenced[r.ARN] = r
		usedBy[r.ARN] = append(usedBy[r.ARN], sa.Namespace+"/"+sa.Name)
		if r.Account != caller.Account {
			if p := in.provider(ctx, r.Partition, r.Account); p != nil && !p.Found {
				crossAccount = append(crossAccount, doctor.Finding{ID: doctor.CrossAccountNoIdP, Severity: doctor.Medium, Check: "iam", Target: "serviceaccount/" + sa.Namespace + "/" + sa.Name,
					Summary: fmt.Sprintf("annotated with a role in account %s, which has no IAM OIDC provider for this cluster", r.Account),
					Fix:     "create the provider in account " + r.Account + " (kubectl irsa provider create with that account's credentials)"})
			}
		}
	}
	crossAccount = append(crossAccount, in.auditPodIdentity(ctx, namespace, sas, referenced, usedBy)...)
	provider := trust.NewProvider(caller.Partition, caller.Account, in.Issuer)
	roles, listed, err := in.auditRoles(ctx, provider, caller, referenced)
	if err != nil {
		return nil, err
	}
	// Roles referenced by ServiceAccounts, read once each (bounded concurrency) with their policies.
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxInFlight)
	for _, r := range referenced {
		g.Go(func() error {
			mu.Lock()
			ar := roles[r.ARN]
			mu.Unlock()
			if ar == nil {
				st := in.role(gctx, r, false, nil)
				switch {
				case st.unreadable:
					ar = &doctor.AuditRole{Name: r.Name, ARN: r.ARN}
				case !st.role.Found:
					return nil
				default:
					ar = &doctor.AuditRole{Name: r.Name, ARN: r.ARN, Trust: st.role.Trust}
				}
			}
			ar.UsedBy = usedBy[r.ARN]
			if p, ok := listed[r.ARN]; ok && ar.Trust != nil {
				ar.Policies, ar.AttachedNames = p.docs, p.attachedNames
				if p.err != nil {
					in.couldNotCheck("the permissions of role "+r.Name, p.err)
				}
			} else if ar.Trust != nil {
				var err error
				if ar.Policies, ar.AttachedNames, err = in.policyDocuments(gctx, r); err != nil {
					in.couldNotCheck("the permissions of role "+r.Name, err)
				}
			}
			mu.Lock()
			roles[r.ARN] = ar
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait() // every goroutine returns nil: failed reads are recorded as could-not-check
	inScope := func(ns string) bool { return namespace == "" || ns == namespace }
	var findings []doctor.Finding
	for _, arn := range slices.Sorted(maps.Keys(roles)) {
		r := roles[arn]
		rep.Roles = append(rep.Roles, r.ARN)
		if r.Trust != nil {
			findings = append(findings, doctor.AuditRoleRules(*r, provider, in.Issuer, existing, inScope)...)
		}
	}
	findings = append(findings, in.trustQuotaFindings(ctx, roles)...)
	rep.Findings = doctor.Merge(append(findings, crossAccount...))
	rep.Notes, rep.CouldNotCheck = in.Notes(), in.Unchecked()
	return rep, nil
}

// rolesTrusting returns every role of the account whose trust names the provider or pods.eks.amazonaws.com: ListRoles returns trusts
// inline, every page is read.
func (in *Inspector) rolesTrusting(ctx context.Context, provider trust.Provider) (map[string]*doctor.AuditRole, error) {
	roles := map[string]*doctor.AuditRole{}
	pages := iam.NewListRolesPaginator(in.IAM, &iam.ListRolesInput{MaxItems: aws.Int32(listPageSize)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListRoles: %w", awsapi.Short(err))
		}
		for _, r := range page.Roles {
			in.addTrusting(roles, provider, aws.ToString(r.RoleName), aws.ToString(r.Arn), aws.ToString(r.AssumeRolePolicyDocument))
		}
	}
	return roles, nil
}

// trustQuotaFindings warns about the roles whose trust uses 80% or more of the account's quota. The quota is read
// (once) only when a trust reaches 80% of IAM's default: no quota is below the default.
func (in *Inspector) trustQuotaFindings(ctx context.Context, roles map[string]*doctor.AuditRole) []doctor.Finding {
	if in.Quotas == nil {
		return nil
	}
	var near []*doctor.AuditRole
	for _, arn := range slices.Sorted(maps.Keys(roles)) { // the report's order does not depend on the map's
		r := roles[arn]
		if doctor.TrustQuotaRule(*r, state.DefaultTrustSizeQuota, "") != nil {
			near = append(near, r)
		}
	}
	if len(near) == 0 {
		return nil
	}
	q := state.ReadAccountQuotas(ctx, in.Quotas, false).TrustSize
	from := "the account's quota"
	if q.Read != state.Found {
		from = "IAM's default quota"
		in.note(q.Note)
	}
	var out []doctor.Finding
	for _, r := range near {
		if f := doctor.TrustQuotaRule(*r, q.Value, from); f != nil {
			out = append(out, *f)
		}
	}
	return out
}
