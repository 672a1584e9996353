package setup

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/identityset"
)

// scaleSet is one set of sas ServiceAccounts spread over roles roles (IRSA, one allow each), in 10 namespaces.
func scaleSet(sas, roles int) identityset.IdentitySet {
	set := identityset.IdentitySet{APIVersion: identityset.APIVersion, Kind: identityset.Kind, Metadata: identityset.Metadata{Name: "scale"}}
	for r := 0; r < roles; r++ {
		set.Spec.Roles = append(set.Spec.Roles, identityset.Role{Name: fmt.Sprintf("scale-%03d", r), Allow: []string{"s3:GetObject"}})
	}
	for i := 0; i < sas; i++ {
		e := &set.Spec.Roles[i%roles]
		e.ServiceAccounts = append(e.ServiceAccounts, fmt.Sprintf("ns-%d/sa-%04d", i%10, i))
	}
	return set
}

// inSyncScale applies the scale set, so the plan measured is diff's on an in-sync cluster.
func inSyncScale(tb testing.TB, sas, roles int) (*PodIdentity, *fakeaws.AWS, *fake.Clientset, SetRequest) {
	tb.Helper()
	cloud := fakeaws.New()
	kube := fakeKube(false, nil)
	for n := 0; n < 10; n++ {
		_, _ = kube.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ns-%d", n)}}, metav1.CreateOptions{})
	}
	p := &PodIdentity{Setup: newSetup(kube, cloud), EKS: cloud.EKS, Cluster: "prod"}
	req := SetRequest{Sets: []identityset.IdentitySet{scaleSet(sas, roles)}, TrustSizeLimit: 1 << 20}
	pl, err := p.PlanSet(context.Background(), req)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := pl.Apply(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return p, cloud, kube, req
}

// reads plans once and counts the AWS and Kubernetes reads it made.
func reads(tb testing.TB, p *PodIdentity, cloud *fakeaws.AWS, kube *fake.Clientset, req SetRequest) (awsReads, kubeReads int) {
	tb.Helper()
	before, kubeBefore := len(cloud.Calls()), len(kube.Actions())
	pl, err := p.PlanSet(context.Background(), req)
	if err != nil {
		tb.Fatal(err)
	}
	if pl.Drifted() {
		tb.Fatalf("in-sync set drifted: %+v", pl.Result("").Drift)
	}
	return len(cloud.Calls()) - before, len(kube.Actions()) - kubeBefore
}

// TestPlanSetReadsDoNotGrowPerServiceAccount: ten times the ServiceAccounts over the same roles, the same reads.
func TestPlanSetReadsDoNotGrowPerServiceAccount(t *testing.T) {
	p, cloud, kube, req := inSyncScale(t, 50, 10)
	aws50, kube50 := reads(t, p, cloud, kube, req)
	p, cloud, kube, req = inSyncScale(t, 500, 10)
	aws500, kube500 := reads(t, p, cloud, kube, req)
	t.Logf("in-sync plan over 10 roles: 50 SAs %d AWS + %d Kubernetes reads, 500 SAs %d + %d", aws50, kube50, aws500, kube500)
	if aws500 != aws50 || kube500 != kube50 {
		t.Errorf("reads grow with ServiceAccounts: 50 SAs %d AWS + %d Kubernetes, 500 SAs %d + %d", aws50, kube50, aws500, kube500)
	}
}

// BenchmarkPlanSet plans (diff) an in-sync set of 50 ServiceAccounts over 10 roles and of 500 over 100 roles,
// reporting the AWS and Kubernetes reads per plan.
func BenchmarkPlanSet(b *testing.B) {
	for _, c := range []struct{ sas, roles int }{{50, 10}, {500, 100}} {
		b.Run(fmt.Sprintf("%dSAs-%droles", c.sas, c.roles), func(b *testing.B) {
			p, cloud, kube, req := inSyncScale(b, c.sas, c.roles)
			var awsReads, kubeReads int
			for b.Loop() {
				awsReads, kubeReads = reads(b, p, cloud, kube, req)
			}
			b.ReportMetric(float64(awsReads), "aws-reads/op")
			b.ReportMetric(float64(kubeReads), "kube-reads/op")
		})
	}
}
