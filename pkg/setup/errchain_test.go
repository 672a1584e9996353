package setup

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
)

// An AWS error returned by setup reads as one short line yet keeps the SDK error in its chain.
func TestSetupErrorKeepsTheSDKError(t *testing.T) {
	cloud := fakeaws.New()
	cloud.IAM.AddProvider(testHostPath, "sts.amazonaws.com")
	cloud.Fail("GetRole", fakeaws.AccessDenied("GetRole"))
	_, err := newSetup(fakeKube(false, nil), cloud).PlanLink(context.Background(), seedRequest)
	var api smithy.APIError
	if err == nil || !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" {
		t.Fatalf("PlanLink error %v: errors.As(smithy.APIError) does not find AccessDenied", err)
	}

	cloud = fakeaws.New()
	cloud.IAM.AddProvider(testHostPath, "sts.amazonaws.com")
	cloud.Fail("GetRole", &smithy.OperationError{ServiceID: "IAM", OperationName: "GetRole", Err: &smithyhttp.RequestSendError{Err: context.Canceled}})
	if _, err := newSetup(fakeKube(false, nil), cloud).PlanLink(context.Background(), seedRequest); !errors.Is(err, context.Canceled) {
		t.Fatalf("PlanLink error %v: errors.Is(context.Canceled) is false", err)
	}
}
