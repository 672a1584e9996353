package inspect

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
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
	in := &Inspector{Kube: kube, IAM: cloud.IAM, EKS: cloud.EKS, Addons: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}, Issuer: testIssuer}
	res, err := in.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("items = %+v", res.Items)
	}
	if it := res.Items[0]; it.Source != "pod-identity" || it.RoleName != "cart-pod-identity" || it.RoleExists != "yes" || it.TrustAdmits != "yes" || it.Mechanism != "pod-identity" || it.Provider != "" {
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
	in := &Inspector{Kube: fake.NewClientset(), EKS: cloud.EKS, Addons: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}}
	roles := in.NodeRoles(context.Background())
	if len(roles) != 2 || !roles["eks-node-a"] || !roles["eks-node-b"] || len(in.Unchecked()) != 0 {
		t.Errorf("node roles %v, unchecked %v", roles, in.Unchecked())
	}
	cloud.Fail("DescribeAccessEntry", fakeaws.AccessDenied("DescribeAccessEntry"))
	in = &Inspector{Kube: fake.NewClientset(), EKS: cloud.EKS, Addons: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}}
	if roles := in.NodeRoles(context.Background()); len(roles) != 0 || len(in.Unchecked()) != 3 {
		t.Errorf("denied: node roles %v, unchecked %v", roles, in.Unchecked())
	}
}

func TestResolveTarget(t *testing.T) {
	labels := map[string]string{"app": "web"}
	spec := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{ServiceAccountName: "web-sa"}}
	kube := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}, Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: spec}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "shop", Labels: labels}, Spec: spec.Spec},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "shop", Labels: map[string]string{"app": "other"}}},
		&batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: "shop"}, Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{ServiceAccountName: "batch"}}}}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "nightly-1-x", Namespace: "shop", Labels: map[string]string{"job-name": "nightly-1"}}, Spec: corev1.PodSpec{ServiceAccountName: "batch"}},
	)
	in := &Inspector{Kube: kube}
	sa, pods, err := in.ResolveTarget(context.Background(), Target{Kind: "deployment", Namespace: "shop", Name: "web"})
	if err != nil || sa != "web-sa" || len(pods) != 1 || pods[0].Name != "web-1" {
		t.Errorf("deployment: %s %v %v", sa, pods, err)
	}
	sa, pods, err = in.ResolveTarget(context.Background(), Target{Kind: "cronjob", Namespace: "shop", Name: "nightly"})
	if err != nil || sa != "batch" || len(pods) != 1 || pods[0].Name != "nightly-1-x" {
		t.Errorf("cronjob: %s %v %v", sa, pods, err)
	}
	if _, _, err := in.ResolveTarget(context.Background(), Target{Kind: "statefulset", Namespace: "shop", Name: "db"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing statefulset: %v", err)
	}
	// In a namespace that does not exist, the namespace is what is missing.
	if _, _, err := in.ResolveTarget(context.Background(), Target{Kind: "pod", Namespace: "gone", Name: "web-1"}); !errors.Is(err, ErrNamespaceNotFound) || !strings.Contains(err.Error(), `namespace "gone" not found`) {
		t.Errorf("pod in a missing namespace: %v", err)
	}
}
