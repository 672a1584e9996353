package inspect

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
)

// An AWS error returned by inspect reads as one short line yet keeps the SDK error in its chain.
func TestInspectErrorKeepsTheSDKError(t *testing.T) {
	caller := awsapi.Caller{Account: fakeaws.Account, Partition: "aws"}
	audit := func(fail error) error {
		cloud := fakeaws.New()
		cloud.Fail("ListRoles", fail)
		kube := fake.NewClientset(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "cart", Namespace: "shop"}})
		in := &Inspector{Kube: kube, IAM: cloud.IAM, Issuer: testIssuer}
		_, err := in.Audit(context.Background(), caller, "shop")
		return err
	}
	err := audit(&smithy.OperationError{ServiceID: "IAM", OperationName: "ListRoles", Err: fakeaws.AccessDenied("ListRoles")})
	var api smithy.APIError
	if err == nil || !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" {
		t.Fatalf("Audit error %v: errors.As(smithy.APIError) does not find AccessDenied", err)
	}
	if got, want := err.Error(), "iam:ListRoles: AccessDenied: User is not authorized to perform: iam:ListRoles"; got != want {
		t.Errorf("Audit error %q, want %q", got, want)
	}
	err = audit(&smithy.OperationError{ServiceID: "IAM", OperationName: "ListRoles", Err: &smithyhttp.RequestSendError{Err: context.Canceled}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Audit error %v: errors.Is(context.Canceled) is false", err)
	}
}
