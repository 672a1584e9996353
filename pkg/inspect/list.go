package inspect

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// ListItem is one ServiceAccount with a role.
type ListItem struct {
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
	// Source is "annotation" or "pod-identity" (an EKS Pod Identity association).
	Source string `json:"source"`
	// Mechanism is how the ServiceAccount gets this role: "irsa", "pod-identity", or "both" (annotation and
	// association name the same role; pods use Pod Identity, which takes precedence).
	Mechanism string `json:"mechanism"`
	RoleName  string `json:"roleName"`
	RoleARN   string `json:"roleArn"`
	Account   string `json:"account"`
	Provider  string `json:"provider,omitempty"`
	// RoleExists is "yes", "no" or "unknown" (not readable).
	RoleExists string `json:"roleExists"`
	// TrustAdmits is "yes", "no" or "unknown", evaluated against the ServiceAccount's real subject.
	TrustAdmits     string `json:"trustAdmits"`
	Pods            int    `json:"pods"`
	PodsNotInjected int    `json:"podsNotInjected"`
	// Migration is the state of a migration to Pod Identity recorded on the ServiceAccount ("" none):
	// "migrating (unverified)", "verified (IRSA kept)" or "migrated" (doctor.MigrationRecord.State).
	Migration string `json:"migration,omitempty"`
}

// Problem says what is wrong with the row ("" when nothing is known to be): the role does not exist, its trust
// does not admit the ServiceAccount, the annotation is not a role ARN, or pods lack injected credentials. An
// "unknown" (a read that failed, or conditions that cannot be evaluated) is not a problem: a failed read is a
// could-not-check note of the result instead.
func (it ListItem) Problem() string {
	var out []string
	switch {
	case it.RoleName == "(invalid ARN)":
		out = append(out, "annotation is not a role ARN")
	case it.RoleExists == "no":
		out = append(out, "role "+it.RoleName+" does not exist")
	case it.TrustAdmits == "no":
		out = append(out, "trust of role "+it.RoleName+" does not admit it")
	}
	if it.PodsNotInjected > 0 {
		out = append(out, fmt.Sprintf("%d of %d pods not injected", it.PodsNotInjected, it.Pods))
	}
	if it.Migration == migratingUnverified {
		out = append(out, "migration to Pod Identity not verified: kubectl irsa migrate "+it.ServiceAccount+" -n "+it.Namespace+" resumes it")
	}
	return strings.Join(out, ", ")
}

// ListResult is the result of `kubectl irsa list`.
type ListResult struct {
	metav1.TypeMeta `json:",inline"`
	Items           []ListItem `json:"items"`
	Notes           []string   `json:"notes,omitempty"`
	// CouldNotCheck lists what a failed read left unknown.
	CouldNotCheck []string `json:"couldNotCheck,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (r *ListResult) DeepCopyObject() runtime.Object { return api.DeepCopy(r) }

// prefetchRoles reads each distinct role once (readRoles chooses GetRole each or ListRoles pages by the
// number of roles) and, with providers, each account's OIDC provider.
func (in *Inspector) prefetchRoles(ctx context.Context, arns []string, withProviders bool) {
	seen := map[string]iamref.Role{}
	for _, a := range arns {
		if r, err := iamref.ParseRole(strings.TrimSpace(a)); err == nil {
			seen[r.ARN] = r
		}
	}
	in.readRoles(ctx, seen)
	if !withProviders {
		return
	}
	accounts := map[string]bool{}
	for _, r := range seen {
		if !accounts[r.Partition+r.Account] {
			accounts[r.Partition+r.Account] = true
			in.provider(ctx, r.Partition, r.Account)
		}
	}
}

// List returns the ServiceAccounts of a namespace ("" for all) that have a role: two paged Kubernetes lists,
// the roles as readRoles reads them, one GetOpenIDConnectProvider per account.
func (in *Inspector) List(ctx context.Context, namespace string) (*ListResult, error) {
	sas, pods, err := in.ScanScope(ctx, namespace)
	if err != nil {
		return nil, err
	}
	res := &ListResult{TypeMeta: api.TypeMeta("ServiceAccountRoleList"), Items: []ListItem{}}
	arns := annotatedARNs(sas)
	associations := in.podIdentityAssociations(ctx, namespace)
	for _, a := range associations {
		arns = append(arns, a.roleARN)
	}
	if in.IAM != nil {
		in.prefetchRoles(ctx, arns, true)
	}
	byServiceAccount := IndexPods(pods)
	for _, sa := range sas {
		a := strings.TrimSpace(sa.Annotations[iamref.RoleARNAnnotation])
		if a == "" {
			continue
		}
		res.Items = append(res.Items, in.listItem(sa.Namespace, sa.Name, "annotation", a, sa.Annotations, byServiceAccount.Of(sa.Namespace, sa.Name)))
	}
	for _, a := range associations {
		res.Items = append(res.Items, in.listItem(a.namespace, a.serviceAccount, "pod-identity", a.roleARN, nil, byServiceAccount.Of(a.namespace, a.serviceAccount)))
	}
	res.Items = mergeMechanisms(res.Items)
	withMigrations(res.Items, sas)
	slices.SortFunc(res.Items, func(a, b ListItem) int {
		return strings.Compare(a.Namespace+"/"+a.ServiceAccount+"/"+a.Source, b.Namespace+"/"+b.ServiceAccount+"/"+b.Source)
	})
	res.Notes, res.CouldNotCheck = in.Notes(), in.Unchecked()
	return res, nil
}

func (in *Inspector) listItem(ns, name, source, roleARN string, annotations map[string]string, pods []corev1.Pod) ListItem {
	item := ListItem{Namespace: ns, ServiceAccount: name, Source: source, RoleARN: roleARN, RoleExists: "unknown", TrustAdmits: "unknown", Pods: len(pods)}
	item.Mechanism = mechanismOf(source)
	for _, p := range pods {
		if source == "annotation" && !cluster.PodHasEnv(&p.Spec, "AWS_ROLE_ARN") || source == "pod-identity" && !cluster.PodHasEnv(&p.Spec, doctor.PodIdentityURIEnv) {
			item.PodsNotInjected++
		}
	}
	r, err := iamref.ParseRole(roleARN)
	if err != nil {
		item.RoleName = roleARN
		if source == "annotation" {
			item.RoleName = "(invalid ARN)"
		}
		return item
	}
	item.RoleName, item.Account = r.Name, r.Account
	provider := trust.NewProvider(r.Partition, r.Account, in.Issuer)
	if source != "pod-identity" {
		item.Provider = provider.ARN
	}
	in.mu.Lock()
	st := in.roles[r.ARN]
	in.mu.Unlock()
	if st == nil || st.unreadable {
		return item
	}
	if !st.role.Found {
		item.RoleExists, item.TrustAdmits = "no", "no"
		return item
	}
	item.RoleExists = "yes"
	if source == "pod-identity" {
		item.TrustAdmits = podIdentityAdmits(st.role.Trust, ns, name)
		return item
	}
	ev := st.role.Trust.Evaluate(trust.Claims{ProviderARN: provider.ARN, HostPath: provider.HostPath, Subject: trust.Subject(ns, name), Audience: iamref.Audience(annotations)})
	item.TrustAdmits = map[trust.Verdict]string{trust.Admits: "yes", trust.Refuses: "no", trust.CannotTell: "unknown"}[ev.Verdict]
	return item
}

// podIdentityAssociations lists EKS Pod Identity associations with their roles, when the EKS API answers (moto
// does not). The list summary has no role ARN: each association is described, at most maxInFlight at a time.
func (in *Inspector) podIdentityAssociations(ctx context.Context, namespace string) []association {
	list, _ := in.associationsIn(ctx, namespace)
	return list
}

// describeAssociations lists the associations of a namespace ("" for all) and describes each for its role.
func (in *Inspector) describeAssociations(ctx context.Context, namespace string) ([]association, bool) {
	list, ok := in.podIdentitySummaries(ctx, namespace)
	if !ok {
		return nil, false
	}
	read := make([]state.Association, len(list))
	for i, a := range list {
		read[i] = state.Association{ID: a.id, Namespace: a.namespace, ServiceAccount: a.serviceAccount}
	}
	failed := state.DescribeAssociations(ctx, in.EKS, in.Cluster.Name, read)
	for i, r := range read {
		a := &list[i]
		a.roleARN = "(pod identity " + a.id + ")"
		if err := failed[a.id]; err != nil {
			in.noteUnchecked(fmt.Sprintf("could not check the role of EKS Pod Identity association %s: %v", a.id, err))
			continue
		}
		if d := r.Detail; d != nil {
			a.roleARN = aws.ToString(d.RoleArn)
			a.described, a.targetRoleARN = true, aws.ToString(d.TargetRoleArn)
			a.disableSessionTags = aws.ToBool(d.DisableSessionTags)
			a.created = aws.ToTime(d.CreatedAt)
		}
	}
	return list, true
}

// migratingUnverified is the Migration of a ServiceAccount whose migration stopped before verification.
var migratingUnverified = doctor.MigrationRecord{Step: doctor.StepAssociated}.State()

// withMigrations sets each row's Migration from its ServiceAccount's migration record.
func withMigrations(items []ListItem, sas []corev1.ServiceAccount) {
	states := map[string]string{}
	for _, sa := range sas {
		if rec, ok := doctor.ReadMigration(sa.Annotations); ok {
			states[sa.Namespace+"/"+sa.Name] = rec.State()
		}
	}
	for i := range items {
		items[i].Migration = states[items[i].Namespace+"/"+items[i].ServiceAccount]
	}
}
