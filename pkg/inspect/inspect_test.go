package inspect

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
)

const testIssuer = "https://oidc.eks.us-east-1.amazonaws.com/id/TESTTEST00"

func TestListPodIdentityRows(t *testing.T) {
	cloud := fakeaws.New()
	cloud.IAM.AddRole("", "cart-pod-identity", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`)
	cloud.EKS.Associations = []ekstypes.PodIdentityAssociation{{AssociationId: aws.String("a-1"), Namespace: aws.String("shop"), ServiceAccount: aws.String("cart"),
		RoleArn: aws.String("arn:aws:iam::" + fakeaws.Account + ":role/cart-pod-identity")}}
	kube := fake.NewClientset(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "cart", Namespace: "shop"}})
	in := &Inspector{Kube: kube, IAM: cloud.IAM, EKS: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}, Issuer: testIssuer}
	res, err := in.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("items = %+v", res.Items)
	}
	if it := res.Items[0]; it.Source != "pod-identity" || it.RoleName != "cart-pod-identity" || it.RoleExists != "yes" || it.TrustAdmits != "n/a" {
		t.Errorf("row = %+v", it)
	}
}

func TestNodeRolesReadEveryAccessEntryPage(t *testing.T) {
	cloud := fakeaws.New()
	cloud.PageSize = 1
	cloud.EKS.AccessEntries = map[string]string{
		"arn:aws:iam::" + fakeaws.Account + ":role/nodes/eks-node-a": "EC2_LINUX",
		"arn:aws:iam::" + fakeaws.Account + ":role/eks-node-b":       "EC2_LINUX",
		"arn:aws:iam::" + fakeaws.Account + ":role/admin":            "STANDARD",
	}
	in := &Inspector{Kube: fake.NewClientset(), EKS: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}}
	roles := in.NodeRoles(context.Background())
	if len(roles) != 2 || !roles["eks-node-a"] || !roles["eks-node-b"] || len(in.Unchecked()) != 0 {
		t.Errorf("node roles %v, unchecked %v", roles, in.Unchecked())
	}
	cloud.Fail("DescribeAccessEntry", fakeaws.AccessDenied("DescribeAccessEntry"))
	in = &Inspector{Kube: fake.NewClientset(), EKS: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}}
	if roles := in.NodeRoles(context.Background()); len(roles) != 0 || len(in.Unchecked()) != 3 {
		t.Errorf("denied: node roles %v, unchecked %v", roles, in.Unchecked())
	}
}
