package state

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
)

func TestAttachedPoliciesEveryPage(t *testing.T) {
	cloud := fakeaws.New()
	cloud.PageSize = 1
	cloud.IAM.AddRole("", "r", `{}`)
	want := []string{"arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B", "arn:aws:iam::aws:policy/C"}
	for _, a := range want {
		if _, err := cloud.IAM.AttachRolePolicy(context.Background(), &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(a)}); err != nil {
			t.Fatal(err)
		}
	}
	attached, err := AttachedPolicies(context.Background(), cloud.IAM, "r")
	var got []string
	for _, a := range attached {
		got = append(got, a.ARN)
	}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("attached %q, %v", got, err)
	}
	cloud.Fail("ListAttachedRolePolicies", fakeaws.AccessDenied("ListAttachedRolePolicies"))
	if _, err := AttachedPolicies(context.Background(), cloud.IAM, "r"); err == nil {
		t.Error("a denied read is not an error")
	}
}
