package irsa

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// maxInFlight bounds concurrent AWS reads across distinct roles; the SDK retries throttling itself.
const maxInFlight = 8

// ListItem is one ServiceAccount with a role.
type ListItem struct {
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
	// Source is "annotation" or "pod-identity" (an EKS Pod Identity association).
	Source   string `json:"source"`
	RoleName string `json:"roleName"`
	RoleARN  string `json:"roleArn"`
	Account  string `json:"account"`
	Provider string `json:"provider,omitempty"`
	// RoleExists is "yes", "no" or "unknown" (not readable).
	RoleExists string `json:"roleExists"`
	// TrustAdmits is "yes", "no" or "unknown", evaluated against the ServiceAccount's real subject.
	TrustAdmits     string `json:"trustAdmits"`
	Pods            int    `json:"pods"`
	PodsNotInjected int    `json:"podsNotInjected"`
}

// ListResult is the result of `kubectl irsa list`.
type ListResult struct {
	metav1.TypeMeta `json:",inline"`
	Items           []ListItem `json:"items"`
	Notes           []string   `json:"notes,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (r *ListResult) DeepCopyObject() runtime.Object { return deepCopy(r) }

// prefetchRoles reads each distinct role (and its account's provider) once, at most maxInFlight at a time.
func (in *Inspector) prefetchRoles(ctx context.Context, arns []string) {
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	seen := map[string]bool{}
	for _, a := range arns {
		r, err := ParseRoleARN(a)
		if err != nil || seen[r.ARN] {
			continue
		}
		seen[r.ARN] = true
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			in.role(ctx, r, false, nil)
		}()
	}
	wg.Wait()
	providers := map[string]bool{}
	for a := range seen {
		r, _ := ParseRoleARN(a)
		if !providers[r.Partition+r.Account] {
			providers[r.Partition+r.Account] = true
			in.provider(ctx, r.Partition, r.Account)
		}
	}
}

// List returns the ServiceAccounts of a namespace ("" for all) that have a role: two Kubernetes list calls,
// one GetRole per distinct role, one GetOpenIDConnectProvider per account.
func (in *Inspector) List(ctx context.Context, namespace string) (*ListResult, error) {
	sas, pods, err := in.ScanScope(ctx, namespace)
	if err != nil {
		return nil, err
	}
	res := &ListResult{TypeMeta: typeMeta("ServiceAccountRoleList"), Items: []ListItem{}}
	var arns []string
	for _, sa := range sas {
		if a := strings.TrimSpace(sa.Annotations[RoleARNAnnotation]); a != "" {
			arns = append(arns, a)
		}
	}
	associations := in.podIdentityAssociations(ctx, namespace)
	for _, a := range associations {
		arns = append(arns, a.roleARN)
	}
	if in.IAM != nil {
		in.prefetchRoles(ctx, arns)
	}
	for _, sa := range sas {
		a := strings.TrimSpace(sa.Annotations[RoleARNAnnotation])
		if a == "" {
			continue
		}
		res.Items = append(res.Items, in.listItem(sa.Namespace, sa.Name, "annotation", a, sa.Annotations, PodsOf(pods, sa.Namespace, sa.Name)))
	}
	for _, a := range associations {
		res.Items = append(res.Items, in.listItem(a.namespace, a.serviceAccount, "pod-identity", a.roleARN, nil, PodsOf(pods, a.namespace, a.serviceAccount)))
	}
	slices.SortFunc(res.Items, func(a, b ListItem) int {
		return strings.Compare(a.Namespace+"/"+a.ServiceAccount+"/"+a.Source, b.Namespace+"/"+b.ServiceAccount+"/"+b.Source)
	})
	res.Notes = in.Notes
	return res, nil
}

func (in *Inspector) listItem(ns, name, source, roleARN string, annotations map[string]string, pods []corev1.Pod) ListItem {
	item := ListItem{Namespace: ns, ServiceAccount: name, Source: source, RoleARN: roleARN, RoleExists: "unknown", TrustAdmits: "unknown", Pods: len(pods)}
	for _, p := range pods {
		if source == "annotation" && !podHasEnv(&p.Spec, "AWS_ROLE_ARN") {
			item.PodsNotInjected++
		}
	}
	r, err := ParseRoleARN(roleARN)
	if err != nil {
		item.RoleName = roleARN
		if source == "annotation" {
			item.RoleName = "(invalid ARN)"
		}
		return item
	}
	item.RoleName, item.Account = r.Name, r.Account
	provider := trust.NewProvider(r.Partition, r.Account, in.Issuer)
	item.Provider = provider.ARN
	in.mu.Lock()
	role := in.roles[r.ARN]
	in.mu.Unlock()
	if role == nil || role.Err != "" {
		return item
	}
	if !role.Found {
		item.RoleExists, item.TrustAdmits = "no", "no"
		return item
	}
	item.RoleExists = "yes"
	if source == "pod-identity" {
		item.TrustAdmits = "n/a"
		return item
	}
	ev := role.Trust.Evaluate(trust.Claims{ProviderARN: provider.ARN, HostPath: provider.HostPath, Subject: trust.Subject(ns, name), Audience: doctor.Audience(annotations)})
	item.TrustAdmits = map[bool]string{true: "yes", false: "no"}[ev.Allowed]
	return item
}

type association struct{ namespace, serviceAccount, roleARN string }

// podIdentityAssociations lists EKS Pod Identity associations when the EKS API answers (moto does not).
func (in *Inspector) podIdentityAssociations(ctx context.Context, namespace string) []association {
	if in.EKS == nil || in.Cluster.Name == "" {
		return nil
	}
	input := &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(in.Cluster.Name)}
	if namespace != "" {
		input.Namespace = aws.String(namespace)
	}
	out, err := in.EKS.ListPodIdentityAssociations(ctx, input, func(o *eks.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		in.note("EKS Pod Identity associations not listed: " + AWSError(err).Error())
		return nil
	}
	// The list summary has no role ARN: describe each association, at most maxInFlight at a time.
	list := make([]association, len(out.Associations))
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	for i, a := range out.Associations {
		list[i] = association{namespace: aws.ToString(a.Namespace), serviceAccount: aws.ToString(a.ServiceAccount), roleARN: "(pod identity " + aws.ToString(a.AssociationId) + ")"}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d, err := in.EKS.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(in.Cluster.Name), AssociationId: a.AssociationId})
			if err == nil && d.Association != nil && d.Association.RoleArn != nil {
				list[i].roleARN = aws.ToString(d.Association.RoleArn)
			}
		}()
	}
	wg.Wait()
	return list
}

// policyDocuments returns the role's identity policy documents and attached managed policy names.
func (in *Inspector) policyDocuments(ctx context.Context, r RoleARN) (docs, attachedNames []string) {
	name := aws.String(r.Name)
	docs = []string{}
	if inline, err := in.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: name}); err == nil {
		for _, p := range inline.PolicyNames {
			if out, err := in.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: name, PolicyName: aws.String(p)}); err == nil {
				docs = append(docs, decodePolicy(aws.ToString(out.PolicyDocument)))
			}
		}
	}
	if attached, err := in.IAM.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: name}); err == nil {
		for _, a := range attached.AttachedPolicies {
			attachedNames = append(attachedNames, aws.ToString(a.PolicyName))
			pol, err := in.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: a.PolicyArn})
			if err != nil {
				continue
			}
			v, err := in.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: a.PolicyArn, VersionId: pol.Policy.DefaultVersionId})
			if err == nil && v.PolicyVersion != nil {
				docs = append(docs, decodePolicy(aws.ToString(v.PolicyVersion.Document)))
			}
		}
	}
	return docs, attachedNames
}

// AuditIAMAPI adds ListRoles to what the inspector reads.
type AuditIAMAPI interface {
	InspectIAMAPI
	ListRoles(ctx context.Context, in *iam.ListRolesInput, optFns ...func(*iam.Options)) (*iam.ListRolesOutput, error)
}

// AuditReport is the result of `kubectl irsa audit`.
type AuditReport struct {
	metav1.TypeMeta `json:",inline"`
	Scope           string           `json:"scope"`
	Roles           []string         `json:"roles"`
	Findings        []doctor.Finding `json:"findings"`
	Notes           []string         `json:"notes,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (r *AuditReport) DeepCopyObject() runtime.Object { return deepCopy(r) }

// Audit checks every role referenced by a ServiceAccount in scope, and every role of the caller's account
// whose trust names this cluster's provider, for dangerous or broken trust and permissions.
func (in *Inspector) Audit(ctx context.Context, client AuditIAMAPI, caller Caller, namespace string) (*AuditReport, error) {
	scope := "namespace " + namespace
	if namespace == "" {
		scope = "all namespaces"
	}
	rep := &AuditReport{TypeMeta: typeMeta("AuditReport"), Scope: scope, Roles: []string{}, Findings: []doctor.Finding{}}
	sas, err := in.Kube.CoreV1().ServiceAccounts(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list serviceaccounts: %w", err)
	}
	existing := map[string]bool{}
	usedBy := map[string][]string{}
	var crossAccount []doctor.Finding
	for _, sa := range sas.Items {
		existing[sa.Namespace+"/"+sa.Name] = true
		a := strings.TrimSpace(sa.Annotations[RoleARNAnnotation])
		r, err := ParseRoleARN(a)
		if err != nil {
			continue
		}
		usedBy[r.ARN] = append(usedBy[r.ARN], sa.Namespace+"/"+sa.Name)
		if r.Account != caller.Account {
			p := in.provider(ctx, r.Partition, r.Account)
			if p.Err == "" && !p.Found {
				crossAccount = append(crossAccount, doctor.Finding{ID: doctor.CrossAccountNoIdP, Severity: doctor.Medium, Check: "iam", Target: "serviceaccount/" + sa.Namespace + "/" + sa.Name,
					Summary: fmt.Sprintf("annotated with a role in account %s, which has no IAM OIDC provider for this cluster", r.Account),
					Fix:     "create the provider in account " + r.Account + " (kubectl irsa provider create with that account's credentials)"})
			}
		}
	}
	provider := trust.NewProvider(caller.Partition, caller.Account, in.Issuer)
	roles := map[string]*doctor.AuditRole{}
	// Every role of the account whose trust names this cluster's provider: ListRoles returns trusts inline.
	var marker *string
	for {
		page, err := client.ListRoles(ctx, &iam.ListRolesInput{Marker: marker})
		if err != nil {
			return nil, fmt.Errorf("iam:ListRoles: %w", AWSError(err))
		}
		for _, r := range page.Roles {
			doc, err := trust.Parse(aws.ToString(r.AssumeRolePolicyDocument))
			if err != nil || !strings.Contains(doc.String(), provider.HostPath) {
				continue
			}
			roles[aws.ToString(r.Arn)] = &doctor.AuditRole{Name: aws.ToString(r.RoleName), ARN: aws.ToString(r.Arn), Trust: doc}
		}
		if !page.IsTruncated {
			break
		}
		marker = page.Marker
	}
	// Roles referenced by ServiceAccounts, fetched once each (bounded concurrency) with their policies.
	var referenced []string
	for a := range usedBy {
		referenced = append(referenced, a)
	}
	slices.Sort(referenced)
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, a := range referenced {
		r, _ := ParseRoleARN(a)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			mu.Lock()
			ar := roles[r.ARN]
			mu.Unlock()
			if ar == nil {
				role := in.role(ctx, r, false, nil)
				if !role.Found {
					return
				}
				ar = &doctor.AuditRole{Name: r.Name, ARN: r.ARN, Trust: role.Trust}
			}
			ar.UsedBy = usedBy[r.ARN]
			ar.Policies, ar.AttachedNames = in.policyDocuments(ctx, r)
			mu.Lock()
			roles[r.ARN] = ar
			mu.Unlock()
		}()
	}
	wg.Wait()
	inScope := func(ns string) bool { return namespace == "" || ns == namespace }
	var findings []doctor.Finding
	for _, arn := range sortedRoleKeys(roles) {
		r := roles[arn]
		rep.Roles = append(rep.Roles, r.ARN)
		findings = append(findings, doctor.AuditRoleRules(*r, provider, in.Issuer, existing, inScope)...)
	}
	rep.Findings = doctor.Merge(append(findings, crossAccount...))
	rep.Notes = in.Notes
	return rep, nil
}

func sortedRoleKeys(m map[string]*doctor.AuditRole) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
