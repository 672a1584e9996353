package setup

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/identityset"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

func setKube(nss ...string) *fake.Clientset {
	kube := fakeKube(false, nil)
	for _, ns := range nss {
		_, _ = kube.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	}
	return kube
}

func setPI(kube *fake.Clientset, cloud *fakeaws.AWS) *PodIdentity {
	return &PodIdentity{Setup: newSetup(kube, cloud), EKS: cloud.EKS, Cluster: "prod"}
}

func paymentsSet(sas ...string) identityset.IdentitySet {
	return identityset.IdentitySet{APIVersion: identityset.APIVersion, Kind: identityset.Kind, Metadata: identityset.Metadata{Name: "payments"},
		Spec: identityset.Spec{Roles: []identityset.Role{
			{Name: "payments-api", ServiceAccounts: sas, Allow: []string{"sqs:SendMessage", "s3:GetObject", "s3:GetObject"}},
			{Name: "payments-pi", Mechanism: identityset.MechanismPodIdentity, ServiceAccounts: []string{"payments/batch"}, Allow: []string{"s3:PutObject"}},
		}}}
}

func planSet(t *testing.T, p *PodIdentity, req SetRequest) *SetPlan {
	t.Helper()
	pl, err := p.PlanSet(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

func applySet(t *testing.T, p *PodIdentity, req SetRequest) *api.SetResult {
	t.Helper()
	res, err := planSet(t, p, req).Apply(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func driftClasses(pl *SetPlan) []string {
	var out []string
	for _, d := range pl.Result("DiffResult").Drift {
		out = append(out, d.Class)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestApplySetCreatesThenUnchanged(t *testing.T) {
	cloud := fakeaws.New()
	kube := setKube("payments")
	createSA(t, kube, "payments", "api", nil)
	p := setPI(kube, cloud)
	req := SetRequest{Sets: []identityset.IdentitySet{paymentsSet("payments/api", "payments/worker")}}
	pl := planSet(t, p, req)
	if !pl.Drifted() {
		t.Fatal("a new set: want drift")
	}
	if _, err := pl.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	writes := strings.Join(cloud.Writes(), ",")
	for _, w := range []string{"CreateOpenIDConnectProvider", "CreateRole", "PutRolePolicy", "CreatePodIdentityAssociation"} {
		if !strings.Contains(writes, w) {
			t.Errorf("writes %s lack %s", writes, w)
		}
	}
	d := mustTrust(t, cloud.IAM.Trust("payments-api"))
	subs := d.Subjects(trust.NewProvider("aws", fakeaws.Account, testIssuer))
	if !slices.Contains(subs, "system:serviceaccount:payments:api") || !slices.Contains(subs, "system:serviceaccount:payments:worker") {
		t.Errorf("subjects %v", subs)
	}
	for _, sa := range []string{"api", "worker"} {
		got, err := kube.CoreV1().ServiceAccounts("payments").Get(context.Background(), sa, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Annotations[iamref.RoleARNAnnotation] != "arn:aws:iam::123456789012:role/payments-api" || got.Annotations[SetAnnotation] != "payments" {
			t.Errorf("%s annotations %v", sa, got.Annotations)
		}
	}
	pol := cloud.IAM.Inline("payments-api", InlinePolicyName)
	if !strings.Contains(pol, PolicySid("payments", "api")) || !strings.Contains(pol, PolicySid("payments", "worker")) {
		t.Errorf("policy %s", pol)
	}
	before := len(cloud.Writes())
	again := planSet(t, p, req)
	if again.Drifted() {
		t.Errorf("second run drift: %+v", again.Result("").Drift)
	}
	if _, err := again.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := cloud.Writes()[before:]; len(got) != 0 {
		t.Errorf("second run writes %v", got)
	}
}

func TestApplySetRepairsExactlyTheDrift(t *testing.T) {
	cloud := fakeaws.New()
	kube := setKube("payments")
	p := setPI(kube, cloud)
	req := SetRequest{Sets: []identityset.IdentitySet{paymentsSet("payments/api", "payments/worker")}}
	applySet(t, p, req)
	// by hand: the annotation of api removed, worker's statement removed, the association deleted
	if err := patchAnnotations(context.Background(), kube, "payments", "api", map[string]*string{iamref.RoleARNAnnotation: nil}); err != nil {
		t.Fatal(err)
	}
	pol := cloud.IAM.Inline("payments-api", InlinePolicyName)
	next, err := setOwned(mustNormalize(t, pol), PolicySid("payments", "worker"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cloud.IAM.PutInline("payments-api", InlinePolicyName, next)
	cloud.EKS.Associations = nil
	pl := planSet(t, p, req)
	want := []string{DriftAnnotationMissing, DriftAssociationMissing, DriftStatementMissing}
	if got := driftClasses(pl); !slices.Equal(got, want) {
		t.Errorf("drift %v, want %v", got, want)
	}
	before := len(cloud.Writes())
	if _, err := pl.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cloud.Writes()[before:], ","); got != "PutRolePolicy,CreatePodIdentityAssociation" {
		t.Errorf("repair writes %s", got)
	}
	if again := planSet(t, p, req); again.Drifted() {
		t.Errorf("drift after repair: %+v", again.Result("").Drift)
	}
}

func TestApplySetPruneRemovesOnlyWhatTheSetMarked(t *testing.T) {
	cloud := fakeaws.New()
	kube := setKube("payments", "other")
	p := setPI(kube, cloud)
	applySet(t, p, SetRequest{Sets: []identityset.IdentitySet{paymentsSet("payments/api", "payments/worker")}})
	// a ServiceAccount linked by `link` to the same role, and a foreign statement
	createSA(t, kube, "other", "linked", nil)
	if _, err := link(t, p.Setup, LinkRequest{Namespace: "other", ServiceAccount: "linked", RoleName: "payments-api", Permissions: ActionsPolicy([]string{"ec2:DescribeInstances"})}); err != nil {
		t.Fatal(err)
	}
	pol := mustNormalize(t, cloud.IAM.Inline("payments-api", InlinePolicyName))
	pol = strings.Replace(pol, `"Statement":[`, `"Statement":[{"Action":"kms:Decrypt","Effect":"Allow","Resource":"*","Sid":"HandWritten"},`, 1)
	cloud.IAM.PutInline("payments-api", InlinePolicyName, pol)

	dropped := SetRequest{Sets: []identityset.IdentitySet{paymentsSet("payments/api")}}
	pl := planSet(t, p, dropped)
	if got := driftClasses(pl); !slices.Contains(got, DriftSubjectExtra) || !slices.Contains(got, DriftStatementExtra) ||
		!slices.Contains(got, DriftServiceAccountExtra) || slices.Contains(got, DriftServiceAccountMissing) {
		t.Errorf("drift %v: want the ServiceAccount no longer listed as extra, not missing", got)
	}
	before := len(cloud.Writes())
	if _, err := pl.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := cloud.Writes()[before:]; len(got) != 0 {
		t.Errorf("apply without --prune wrote %v", got)
	}
	dropped.Prune = true
	applySet(t, p, dropped)
	subs := mustTrust(t, cloud.IAM.Trust("payments-api")).Subjects(trust.NewProvider("aws", fakeaws.Account, testIssuer))
	if slices.Contains(subs, "system:serviceaccount:payments:worker") || !slices.Contains(subs, "system:serviceaccount:other:linked") {
		t.Errorf("subjects after prune %v", subs)
	}
	pol = cloud.IAM.Inline("payments-api", InlinePolicyName)
	if strings.Contains(pol, PolicySid("payments", "worker")) || !strings.Contains(pol, "HandWritten") || !strings.Contains(pol, PolicySid("other", "linked")) {
		t.Errorf("policy after prune %s", pol)
	}
	worker, err := kube.CoreV1().ServiceAccounts("payments").Get(context.Background(), "worker", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("prune deleted the ServiceAccount: %v", err)
	}
	if len(worker.Annotations) != 0 {
		t.Errorf("worker annotations after prune %v", worker.Annotations)
	}
	if again := planSet(t, p, dropped); again.Drifted() {
		t.Errorf("drift after prune: %+v", again.Result("").Drift)
	}
}

func TestApplySetPruneDeletesTheRoleItCreated(t *testing.T) {
	cloud := fakeaws.New()
	kube := setKube("payments")
	p := setPI(kube, cloud)
	cloud.IAM.AddRole("", "foreign-role", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	set := paymentsSet("payments/api")
	set.Spec.Roles = append(set.Spec.Roles, identityset.Role{ARN: "arn:aws:iam::123456789012:role/foreign-role", ServiceAccounts: []string{"payments/legacy"}})
	applySet(t, p, SetRequest{Sets: []identityset.IdentitySet{set}})
	// the file drops the pod identity role's entry and the foreign role's entry
	set.Spec.Roles = set.Spec.Roles[:1]
	applySet(t, p, SetRequest{Sets: []identityset.IdentitySet{set}, Prune: true})
	if cloud.IAM.Trust("payments-pi") != "" {
		t.Error("the role the set created and nothing uses was kept")
	}
	if cloud.EKS.Association("payments", "batch") != nil {
		t.Error("the association of a dropped ServiceAccount was kept")
	}
	if cloud.IAM.Trust("foreign-role") == "" {
		t.Error("prune deleted a role the set did not create")
	}
	if subs := mustTrust(t, cloud.IAM.Trust("foreign-role")).Subjects(trust.NewProvider("aws", fakeaws.Account, testIssuer)); len(subs) != 0 {
		t.Errorf("foreign role still admits %v", subs)
	}
}

func createSA(t *testing.T, kube *fake.Clientset, ns, name string, annotations map[string]string) {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: annotations}}
	if _, err := kube.CoreV1().ServiceAccounts(ns).Create(context.Background(), sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func mustTrust(t *testing.T, doc string) *trust.Document {
	t.Helper()
	d, err := trust.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustNormalize(t *testing.T, doc string) string {
	t.Helper()
	n, err := NormalizePolicy(doc)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSetPlanNamesTheOneOwnersPermissions: a role with one ServiceAccount shows, in the plan a reviewer approves,
// the actions that will be written (it showed "inline policy with no Action").
func TestSetPlanNamesTheOneOwnersPermissions(t *testing.T) {
	cloud := fakeaws.New()
	kube := setKube("payments")
	createSA(t, kube, "payments", "api", nil)
	pl := planSet(t, setPI(kube, cloud), SetRequest{Sets: []identityset.IdentitySet{paymentsSet("payments/api")}})
	var details []string
	for _, a := range pl.Result("DiffResult").Actions {
		if strings.Contains(a.Resource, "policy/") || strings.Contains(a.Detail, "inline policy") {
			details = append(details, a.Resource+": "+a.Detail)
		}
	}
	joined := strings.Join(details, "\n")
	if !strings.Contains(joined, "s3:GetObject") || !strings.Contains(joined, "sqs:SendMessage") || strings.Contains(joined, "no Action") {
		t.Errorf("policy actions of the plan:\n%s", joined)
	}
}

// TestPruneKeepsARoleWithHandAddedPolicies: a role the set created, dropped from the file, is not deleted when
// someone added an inline policy of their own to it (deleting the role would destroy it); the plan says so.
func TestPruneKeepsARoleWithHandAddedPolicies(t *testing.T) {
	cloud := fakeaws.New()
	kube := setKube("payments")
	p := setPI(kube, cloud)
	set := paymentsSet("payments/api")
	applySet(t, p, SetRequest{Sets: []identityset.IdentitySet{set}})
	cloud.IAM.PutInline("payments-pi", "hand-inline", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`)
	set.Spec.Roles = set.Spec.Roles[:1]
	res := applySet(t, p, SetRequest{Sets: []identityset.IdentitySet{set}, Prune: true})
	if cloud.IAM.Trust("payments-pi") == "" || cloud.IAM.Inline("payments-pi", "hand-inline") == "" {
		t.Fatal("prune deleted a role holding a hand-added inline policy")
	}
	if !strings.Contains(strings.Join(res.Hints, "\n"), "hand-inline") {
		t.Errorf("no hint names the kept policy: %v", res.Hints)
	}
}

// TestPruneKeepsStatementOfOtherCluster: the set drops a ServiceAccount whose namesake in another cluster is linked
// to the same role: --prune takes this cluster's subject out but keeps the statement the other cluster uses.
func TestPruneKeepsStatementOfOtherCluster(t *testing.T) {
	cloud := fakeaws.New()
	p := setPI(setKube("payments"), cloud)
	applySet(t, p, SetRequest{Sets: []identityset.IdentitySet{paymentsSet("payments/api", "payments/worker")}})
	green := newSetup(setKube("payments"), cloud)
	green.Issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/GREEN00000"
	createSA(t, green.Kube.(*fake.Clientset), "payments", "api", nil)
	if _, err := link(t, green, LinkRequest{Namespace: "payments", ServiceAccount: "api", RoleName: "payments-api", Permissions: ActionsPolicy([]string{"s3:GetObject", "sqs:SendMessage"})}); err != nil {
		t.Fatal(err)
	}
	res := applySet(t, p, SetRequest{Sets: []identityset.IdentitySet{paymentsSet("payments/worker")}, Prune: true})
	pol := mustNormalize(t, cloud.IAM.Inline("payments-api", InlinePolicyName))
	if !strings.Contains(pol, PolicySid("payments", "api")) {
		t.Errorf("prune removed the statement green's payments/api uses: %s\n%+v", pol, res)
	}
	if subs := mustTrust(t, cloud.IAM.Trust("payments-api")).Subjects(trust.NewProvider("aws", fakeaws.Account, testIssuer)); slices.Contains(subs, "system:serviceaccount:payments:api") {
		t.Errorf("blue's subject of payments/api kept after prune: %v", subs)
	}
}
