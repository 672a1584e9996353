package awsapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestShort(t *testing.T) {
	refused := errors.New("dial tcp 127.0.0.1:9: connect: connection refused")
	opErr := func(err error) error {
		return &smithy.OperationError{ServiceID: "EKS", OperationName: "ListPodIdentityAssociations", Err: err}
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"API error", opErr(&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}), "AccessDeniedException: no"},
		{"HTTP status without a code", opErr(&smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 502}}, Err: errors.New("x")}),
			"eks:ListPodIdentityAssociations answered HTTP 502"},
		{"no answer (connection refused)", opErr(&smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{}}, Err: &smithyhttp.RequestSendError{Err: refused}}),
			"eks:ListPodIdentityAssociations not reachable: dial tcp 127.0.0.1:9: connect: connection refused"},
		{"no answer, no dial", opErr(&smithyhttp.RequestSendError{Err: errors.New("context deadline exceeded")}),
			"eks:ListPodIdentityAssociations not reachable: request send failed, context deadline exceeded"},
		{"not an SDK error", refused, refused.Error()},
	} {
		if got := Short(tc.err).Error(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestShortKeepsTheChain(t *testing.T) {
	denied := &smithy.OperationError{ServiceID: "IAM", OperationName: "GetRole", Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}}
	err := fmt.Errorf("role r: %w", Short(denied))
	if got, want := err.Error(), "role r: AccessDenied: no"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" {
		t.Errorf("errors.As(smithy.APIError) lost the SDK error: %v", err)
	}
	canceled := &smithy.OperationError{ServiceID: "EKS", OperationName: "ListPodIdentityAssociations", Err: &smithyhttp.RequestSendError{Err: context.Canceled}}
	if err := fmt.Errorf("x: %w", Short(canceled)); !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(context.Canceled) false for %v", err)
	}
	if once := Short(denied); Short(once) != once {
		t.Errorf("Short twice changed the text")
	}
	if Short(nil) != nil {
		t.Errorf("Short(nil) is not nil")
	}
}
