package state

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
)

func TestInlinePoliciesEveryPage(t *testing.T) {
	cloud := fakeaws.New()
	cloud.PageSize = 1
	cloud.IAM.AddRole("", "r", `{}`)
	for _, n := range []string{"a", "b", "c"} {
		cloud.IAM.PutInline("r", n, `{"Version":"2012-10-17","Statement":[]}`)
	}
	got, err := InlinePolicies(context.Background(), cloud.IAM, "r", func(n string) bool { return n == "b" })
	if err != nil || len(got) != 2 || got[0].Name != "a" || got[1].Name != "c" {
		t.Errorf("policies %+v, %v", got, err)
	}
	cloud.Fail("GetRolePolicy", fakeaws.AccessDenied("GetRolePolicy"))
	if _, err := InlinePolicies(context.Background(), cloud.IAM, "r", nil); err == nil {
		t.Error("a denied read is not an error")
	}
}

func TestAssociationsOfRoleEveryPage(t *testing.T) {
	cloud := fakeaws.New()
	cloud.PageSize = 1
	for i, role := range []string{"x", "y", "x"} {
		cloud.EKS.Associations = append(cloud.EKS.Associations, ekstypes.PodIdentityAssociation{AssociationId: aws.String(string(rune('a' + i))),
			Namespace: aws.String("ns"), ServiceAccount: aws.String(string(rune('a' + i))), RoleArn: aws.String("arn:aws:iam::" + fakeaws.Account + ":role/" + role)})
	}
	got, err := AssociationsOfRole(context.Background(), cloud.EKS, "prod", "arn:aws:iam::"+fakeaws.Account+":role/x", "c")
	if err != nil || len(got) != 1 || got[0] != "a" {
		t.Errorf("users %v, %v", got, err)
	}
}

func TestAgentThreeValued(t *testing.T) {
	cloud := fakeaws.New()
	if a := ReadAgent(context.Background(), fake.NewClientset(), cloud.EKS, "prod"); a.Presence != Missing {
		t.Errorf("no DaemonSet, no add-on: %+v", a)
	}
	cloud.EKS.Addons = []string{AgentName}
	if a := ReadAgent(context.Background(), fake.NewClientset(), cloud.EKS, "prod"); a.Presence != Found {
		t.Errorf("add-on: %+v", a)
	}
}
