package inspect

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

// identitiesFixture: an annotated ServiceAccount whose role has an inline policy and two attached policies (one
// a page each), and a Pod Identity association with its options.
func identitiesFixture() (*fakeaws.AWS, *fake.Clientset) {
	cloud := fakeaws.New()
	cloud.PageSize = 1
	cloud.IAM.AddRole("", "api", `{"Version":"2012-10-17","Statement":[]}`)
	cloud.IAM.PutInline("api", "kubectl-irsa", `{"Version":"2012-10-17","Statement":[{"Sid":"X","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	for _, p := range []string{"arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"} {
		_, _ = cloud.IAM.AttachRolePolicy(context.Background(), &iam.AttachRolePolicyInput{RoleName: aws.String("api"), PolicyArn: aws.String(p)})
	}
	cloud.IAM.AddRole("", "cart", `{"Version":"2012-10-17","Statement":[]}`)
	cloud.EKS.Associations = []ekstypes.PodIdentityAssociation{{AssociationId: aws.String("a-1"), Namespace: aws.String("shop"), ServiceAccount: aws.String("cart"),
		RoleArn: aws.String("arn:aws:iam::" + fakeaws.Account + ":role/cart"), DisableSessionTags: aws.Bool(true)}}
	kube := fake.NewClientset(
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop", Annotations: map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + fakeaws.Account + ":role/api"}}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "cart", Namespace: "shop"}},
	)
	return cloud, kube
}

func TestIdentities(t *testing.T) {
	cloud, kube := identitiesFixture()
	in := &Inspector{Kube: kube, IAM: cloud.IAM, EKS: cloud.EKS, Addons: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}, Issuer: testIssuer}
	got, err := in.Identities(context.Background(), "", "kubectl-irsa")
	if err != nil {
		t.Fatal(err)
	}
	api := "arn:aws:iam::" + fakeaws.Account + ":role/api"
	if len(got.Items) != 2 || !strings.Contains(got.Inline[api], "s3%3AGetObject") && !strings.Contains(got.Inline[api], "s3:GetObject") {
		t.Errorf("items %+v inline %q", got.Items, got.Inline)
	}
	if !slices.Equal(got.Attached[api], []string{"arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"}) {
		t.Errorf("attached %q (every page)", got.Attached[api])
	}
	if !got.AssociationsRead || !got.Associations["shop/cart"].DisableSessionTags {
		t.Errorf("associations %+v read %v", got.Associations, got.AssociationsRead)
	}
	if len(got.CouldNotCheck) != 0 {
		t.Errorf("could not check %q", got.CouldNotCheck)
	}
}

// TestIdentitiesCouldNotCheck: a denied read is could-not-check, never a role without policies.
func TestIdentitiesCouldNotCheck(t *testing.T) {
	for _, call := range []string{"GetRolePolicy", "ListAttachedRolePolicies"} {
		cloud, kube := identitiesFixture()
		cloud.Fail(call, fakeaws.AccessDenied(call))
		in := &Inspector{Kube: kube, IAM: cloud.IAM, EKS: cloud.EKS, Addons: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}, Issuer: testIssuer}
		got, err := in.Identities(context.Background(), "", "kubectl-irsa")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.CouldNotCheck) == 0 || !strings.Contains(strings.Join(got.CouldNotCheck, "\n"), "role api") {
			t.Errorf("%s denied: could not check %q", call, got.CouldNotCheck)
		}
	}
}
