package irsa

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// fakePodIdentity answers the EKS Pod Identity calls that moto does not implement.
type fakePodIdentity struct{ InspectEKSAPI }

func (fakePodIdentity) ListPodIdentityAssociations(context.Context, *eks.ListPodIdentityAssociationsInput, ...func(*eks.Options)) (*eks.ListPodIdentityAssociationsOutput, error) {
	return &eks.ListPodIdentityAssociationsOutput{Associations: []ekstypes.PodIdentityAssociationSummary{
		{AssociationId: aws.String("a-1"), Namespace: aws.String("shop"), ServiceAccount: aws.String("cart")},
	}}, nil
}

func (fakePodIdentity) DescribePodIdentityAssociation(_ context.Context, in *eks.DescribePodIdentityAssociationInput, _ ...func(*eks.Options)) (*eks.DescribePodIdentityAssociationOutput, error) {
	return &eks.DescribePodIdentityAssociationOutput{Association: &ekstypes.PodIdentityAssociation{
		AssociationId: in.AssociationId, RoleArn: aws.String("arn:aws:iam::123456789012:role/cart-pod-identity")}}, nil
}

// fakeInspectIAM serves one existing role.
type fakeInspectIAM struct {
	InspectIAMAPI
	f *fakeIAM
}

func (i fakeInspectIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, opts ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	return i.f.GetRole(ctx, in, opts...)
}

func (i fakeInspectIAM) GetOpenIDConnectProvider(ctx context.Context, in *iam.GetOpenIDConnectProviderInput, opts ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error) {
	return i.f.GetOpenIDConnectProvider(ctx, in, opts...)
}

func TestListPodIdentityRows(t *testing.T) {
	f := newFakeIAM()
	_, _ = f.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String("cart-pod-identity"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
	kube := fake.NewClientset(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "cart", Namespace: "shop"}})
	in := &Inspector{Kube: kube, IAM: fakeInspectIAM{f: f}, EKS: fakePodIdentity{}, Cluster: ClusterRef{Name: "prod"}, Issuer: testIssuer}
	res, err := in.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("items = %+v", res.Items)
	}
	it := res.Items[0]
	if it.Source != "pod-identity" || it.RoleName != "cart-pod-identity" || it.RoleExists != "yes" || it.TrustAdmits != "n/a" {
		t.Errorf("row = %+v", it)
	}
}
