package cluster

import (
	"context" //nolint:gosec // the IAM thumbprint is SHA-1
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

type fakeEKS struct{ issuer string }

func (f fakeEKS) DescribeCluster(context.Context, *eks.DescribeClusterInput, ...func(*eks.Options)) (*eks.DescribeClusterOutput, error) {
	return &eks.DescribeClusterOutput{Cluster: &ekstypes.Cluster{Identity: &ekstypes.Identity{Oidc: &ekstypes.OIDC{Issuer: aws.String(f.issuer)}}}}, nil
}

// apiServer serves only the OIDC discovery document (or 404 when issuer is empty).
func apiServer(t *testing.T, issuer string) kubernetes.Interface {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" || issuer == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"` + issuer + `","jwks_uri":"x"}`))
	}))
	t.Cleanup(srv.Close)
	return kubernetes.NewForConfigOrDie(&rest.Config{Host: srv.URL})
}

func TestDiscoverIssuer(t *testing.T) {
	const a, b = "https://oidc.eks.us-east-1.amazonaws.com/id/AAAA", "https://oidc.eks.us-east-1.amazonaws.com/id/BBBB"
	ctx := context.Background()

	res, err := (&Discovery{Kube: apiServer(t, a)}).Discover(ctx)
	if err != nil || res.Issuer != a || res.Source != SourceAPIServer || res.HostPath != "oidc.eks.us-east-1.amazonaws.com/id/AAAA" {
		t.Errorf("apiserver: %+v %v", res, err)
	}
	res, err = (&Discovery{Kube: apiServer(t, ""), EKS: fakeEKS{b}, Cluster: Ref{Name: "prod"}}).Discover(ctx)
	if err != nil || res.Issuer != b || res.Source != SourceEKS {
		t.Errorf("EKS fallback: %+v %v", res, err)
	}
	res, err = (&Discovery{Kube: apiServer(t, a), EKS: fakeEKS{b}, Cluster: Ref{Name: "prod"}, CompareAll: true}).Discover(ctx)
	if err != nil || res.Issuer != a || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], b) {
		t.Errorf("disagreement not warned: %+v %v", res, err)
	}
	_, err = (&Discovery{Kube: apiServer(t, "")}).Discover(ctx)
	if !errors.Is(err, ErrIssuerNotFound) || strings.Contains(err.Error(), "--eks-cluster") {
		t.Errorf("no source: %v", err)
	}
	_, err = (&Discovery{Kube: apiServer(t, "http://plain")}).Discover(ctx)
	if err == nil || !strings.Contains(err.Error(), "not an https URL") {
		t.Errorf("http issuer: %v", err)
	}
}

func TestTokenClaims(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	c, err := TokenClaims("x." + enc([]byte(`{"iss":"https://i","sub":"system:serviceaccount:a:b","aud":"sts.amazonaws.com"}`)) + ".sig")
	if err != nil || c.Subject != "system:serviceaccount:a:b" || len(c.Audience) != 1 || c.Audience[0] != "sts.amazonaws.com" {
		t.Errorf("single aud: %+v %v", c, err)
	}
	c, err = TokenClaims("x." + enc([]byte(`{"iss":"https://i","aud":["a","b"]}`)) + ".sig")
	if err != nil || len(c.Audience) != 2 {
		t.Errorf("list aud: %+v %v", c, err)
	}
	if _, err := TokenClaims("not-a-jwt"); err == nil {
		t.Error("accepted a non-JWT")
	}
}
