package inspect

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

const (
	piTrustGood  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
	piTrustNoTag = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

func roleARNOf(name string) string { return "arn:aws:iam::" + fakeaws.Account + ":role/" + name }

// piFixture: shop/good (injected pod), shop/stale (pod older than its association), shop/ghost (role missing),
// shop/notag (trust without TagSession), shop/split (annotation and association on different roles).
func piFixture(agent bool) (*fakeaws.AWS, *fake.Clientset) {
	cloud := fakeaws.New()
	cloud.IAM.AddRole("", "good", piTrustGood)
	cloud.IAM.AddRole("", "notag", piTrustNoTag)
	created := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, sa := range []struct{ name, role string }{{"good", "good"}, {"stale", "good"}, {"ghost", "ghost"}, {"notag", "notag"}, {"split", "good"}} {
		cloud.EKS.Associations = append(cloud.EKS.Associations, ekstypes.PodIdentityAssociation{AssociationId: aws.String("a-" + string(rune('0'+i))),
			Namespace: aws.String("shop"), ServiceAccount: aws.String(sa.name), RoleArn: aws.String(roleARNOf(sa.role)), CreatedAt: &created})
	}
	if agent {
		cloud.EKS.Addons = []string{AgentName}
	}
	pod := func(name, sa string, at time.Time, injected bool) *corev1.Pod {
		c := corev1.Container{Name: "app", Image: "amazon/aws-cli:2.22.0"}
		if injected {
			c.Env = []corev1.EnvVar{{Name: doctor.PodIdentityURIEnv, Value: "http://169.254.170.23/v1/credentials"}, {Name: doctor.PodIdentityTokenEnv, Value: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"}}
		}
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", CreationTimestamp: metav1.NewTime(at)}, Spec: corev1.PodSpec{ServiceAccountName: sa, Containers: []corev1.Container{c}}}
	}
	after, before := created.Add(time.Hour), created.Add(-time.Hour)
	kube := fake.NewClientset(
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "good", Namespace: "shop"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "stale", Namespace: "shop"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "ghost", Namespace: "shop"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "notag", Namespace: "shop"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "split", Namespace: "shop", Annotations: map[string]string{iamref.RoleARNAnnotation: roleARNOf("notag")}}},
		pod("good-1", "good", after, true), pod("stale-1", "stale", before, false), pod("split-1", "split", after, true),
	)
	return cloud, kube
}

func findingsOf(fs []doctor.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID+" "+f.Target)
	}
	return out
}

func TestDoctorScopePodIdentity(t *testing.T) {
	cloud, kube := piFixture(false)
	in := &Inspector{Kube: kube, IAM: cloud.IAM, EKS: cloud.EKS, Addons: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}, Issuer: testIssuer}
	rep, err := in.DoctorScope(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	got := findingsOf(rep.Findings)
	for _, want := range []string{
		"PodIdentityAgentMissing cluster", "PodIdentityNotInjected pod/shop/stale-1", "PodIdentityRoleMissing role/ghost",
		"PodIdentityTrustInvalid role/notag", "BothMechanisms pod/shop/split-1", "PodIdentityOverrides serviceaccount/shop/split",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
	for _, f := range rep.Findings {
		if f.ID == doctor.PodNotInjected || f.ID == doctor.NotAnnotated || f.Target == "pod/shop/good-1" {
			t.Errorf("unexpected %s %s: %s", f.ID, f.Target, f.Summary)
		}
	}
	if n := slices.Index(rep.Checked, "serviceaccount/shop/good"); n < 0 {
		t.Errorf("associated ServiceAccount not checked: %v", rep.Checked)
	}
	if len(rep.CouldNotCheck) > 0 {
		t.Errorf("could not check: %v", rep.CouldNotCheck)
	}
}

func TestAgentInstalled(t *testing.T) {
	cloud, kube := piFixture(true)
	in := &Inspector{Kube: kube, EKS: cloud.EKS, Addons: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}}
	if got := in.AgentInstalled(context.Background()); got == nil || !*got {
		t.Errorf("add-on present: %v", got)
	}
	cloud, _ = piFixture(false)
	kube = fake.NewClientset(&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: AgentName, Namespace: "kube-system"}})
	in = &Inspector{Kube: kube, EKS: cloud.EKS, Addons: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}}
	if got := in.AgentInstalled(context.Background()); got == nil || !*got || slices.Contains(cloud.Calls(), "DescribeAddon") {
		t.Errorf("DaemonSet present: %v, calls %v", got, cloud.Calls())
	}
	cloud.Fail("DescribeAddon", fakeaws.AccessDenied("DescribeAddon"))
	in = &Inspector{Kube: fake.NewClientset(), EKS: cloud.EKS, Addons: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}}
	if got := in.AgentInstalled(context.Background()); got == nil || *got {
		t.Errorf("no DaemonSet, add-on unreadable: %v", got)
	}
}

func TestAuditPodIdentity(t *testing.T) {
	cloud, kube := piFixture(true)
	in := &Inspector{Kube: kube, IAM: cloud.IAM, EKS: cloud.EKS, Addons: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}, Issuer: testIssuer}
	rep, err := in.Audit(context.Background(), awsapi.Caller{Account: fakeaws.Account, Partition: "aws"}, "shop")
	if err != nil {
		t.Fatal(err)
	}
	got := findingsOf(rep.Findings)
	for _, want := range []string{"PodIdentityRoleMissing serviceaccount/shop/ghost", "MechanismConflict serviceaccount/shop/split", "PodIdentityNoTagSession role/notag"} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
	if slices.ContainsFunc(got, func(s string) bool {
		return s == "PodIdentityNoTagSession role/good" || s == "MechanismConflict serviceaccount/shop/good"
	}) {
		t.Errorf("good association reported: %q", got)
	}
}

func TestListMechanisms(t *testing.T) {
	cloud, kube := piFixture(true)
	in := &Inspector{Kube: kube, IAM: cloud.IAM, EKS: cloud.EKS, Addons: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}, Issuer: testIssuer}
	res, err := in.List(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, it := range res.Items {
		rows = append(rows, it.ServiceAccount+" "+it.Mechanism+" "+it.RoleName+" "+it.RoleExists+" "+it.TrustAdmits+" "+string(rune('0'+it.PodsNotInjected)))
	}
	want := []string{"ghost pod-identity ghost no no 0", "good pod-identity good yes yes 0", "notag pod-identity notag yes no 0",
		"split irsa notag yes no 0", "split pod-identity good yes yes 0", "stale pod-identity good yes yes 1"}
	if !slices.Equal(rows, want) {
		t.Errorf("rows\n got %q\nwant %q", rows, want)
	}
}
