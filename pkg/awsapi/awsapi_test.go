package awsapi

import (
	"errors"
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
