package eksauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func config(url string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		}}
}

func TestAssumeRoleForPodIdentity(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/clusters/prod/assume-role-for-pod-identity" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		if auth := r.Header.Get("Authorization"); !strings.Contains(auth, "/us-east-1/eks-auth/aws4_request") {
			t.Errorf("not signed for eks-auth: %q", auth)
		}
		var in map[string]string
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in["token"] != "tok" {
			t.Errorf("body %v %v", in, err)
		}
		if calls.Load() == 1 {
			w.Header().Set("X-Amzn-Errortype", "ThrottlingException:http://internal")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message":"slow down"}`))
			return
		}
		_, _ = w.Write([]byte(`{"subject":{"namespace":"shop","serviceAccount":"cart"},"audience":"pods.eks.amazonaws.com",
 "podIdentityAssociation":{"associationArn":"arn:aws:eks:us-east-1:123456789012:podidentityassociation/prod/a-1","associationId":"a-1"},
 "assumedRoleUser":{"arn":"arn:aws:sts::123456789012:assumed-role/r/eks-prod-cart","assumeRoleId":"AROA:eks"},
 "credentials":{"accessKeyId":"ASIA","secretAccessKey":"s","sessionToken":"t","expiration":1893456000}}`))
	}))
	defer srv.Close()
	out, err := New(config(srv.URL)).AssumeRoleForPodIdentity(context.Background(), "prod", "tok")
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Errorf("throttled call not retried: %d calls", calls.Load())
	}
	if out.Namespace != "shop" || out.ServiceAccount != "cart" || out.AssociationID != "a-1" || out.AssumedRoleARN != "arn:aws:sts::123456789012:assumed-role/r/eks-prod-cart" ||
		out.Credentials.AccessKeyID != "ASIA" || !out.Credentials.Expires.Equal(time.Unix(1893456000, 0)) {
		t.Errorf("decoded %+v", out)
	}
}

func TestErrorsTyped(t *testing.T) {
	for _, tc := range []struct {
		header, body, want string
		status             int
		calls              int32
	}{
		{"AccessDeniedException", `{"message":"no"}`, AccessDenied, 403, 1},
		{"", `{"__type":"com.amazonaws.eksauth#InvalidTokenException","message":"bad"}`, InvalidToken, 400, 1},
		{"ExpiredTokenException", `{}`, ExpiredToken, 400, 1},
		{"ResourceNotFoundException", `{"message":"no association"}`, ResourceNotFound, 404, 1},
		{"ServiceUnavailableException", `{}`, ServiceUnavailable, 503, 3},
	} {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if tc.header != "" {
				w.Header().Set("X-Amzn-Errortype", tc.header)
			}
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		_, err := New(config(srv.URL)).AssumeRoleForPodIdentity(context.Background(), "prod", "tok")
		srv.Close()
		if !IsCode(err, tc.want) {
			t.Errorf("%s: got %v", tc.want, err)
		}
		if calls.Load() != tc.calls {
			t.Errorf("%s: %d calls, want %d", tc.want, calls.Load(), tc.calls)
		}
	}
}

func TestEndpoint(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_EKS_AUTH", "")
	if got := New(aws.Config{Region: "eu-west-1"}).Endpoint(); got != "https://eks-auth.eu-west-1.api.aws" {
		t.Errorf("default endpoint %s", got)
	}
	t.Setenv("AWS_ENDPOINT_URL_EKS_AUTH", "http://127.0.0.1:9/")
	if got := New(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String("http://x")}).Endpoint(); got != "http://127.0.0.1:9" {
		t.Errorf("service endpoint %s", got)
	}
}
