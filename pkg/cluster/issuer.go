package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
)

// Issuer sources, in the order they are tried.
const (
	SourceAPIServer = "apiserver-discovery"
	SourceEKS       = "eks-describe-cluster"
	SourceToken     = "token-request"
)

// IssuerCandidate is what one source said.
type IssuerCandidate struct {
	Source string `json:"source"`
	Issuer string `json:"issuer,omitempty"`
	Error  string `json:"error,omitempty"`
}

// IssuerResult is the result of `kubectl irsa issuer`.
type IssuerResult struct {
	metav1.TypeMeta `json:",inline"`
	Issuer          string            `json:"issuer"`
	HostPath        string            `json:"hostPath"`
	Source          string            `json:"source"`
	Candidates      []IssuerCandidate `json:"candidates"`
	Warnings        []string          `json:"warnings,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (r *IssuerResult) DeepCopyObject() runtime.Object { return api.DeepCopy(r) }

// ErrIssuerNotFound: no source told the cluster's OIDC issuer.
var ErrIssuerNotFound = errors.New("cannot find the cluster's OIDC issuer")

// EKSAPI is the EKS call issuer discovery makes; *eks.Client implements it.
type EKSAPI interface {
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
}

// Discovery finds a cluster's OIDC issuer.
type Discovery struct {
	Kube kubernetes.Interface
	// EKS is used when the API server does not serve discovery and Cluster names the EKS cluster; may be nil.
	EKS     EKSAPI
	Cluster Ref
	// TokenServiceAccount names a ServiceAccount (namespace/name) whose token's iss claim is the last resort.
	TokenNamespace, TokenServiceAccount string
	// CompareAll asks every source, to warn when they disagree (used by `kubectl irsa issuer`).
	CompareAll bool
}

// Discover returns the issuer from the first source that answers: the API server's
// /.well-known/openid-configuration, then EKS DescribeCluster, then the iss claim of a TokenRequest token.
func (d *Discovery) Discover(ctx context.Context) (*IssuerResult, error) {
	res := &IssuerResult{TypeMeta: api.TypeMeta("Issuer")}
	sources := []struct {
		name string
		get  func(context.Context) (string, error)
	}{
		{SourceAPIServer, d.fromAPIServer},
		{SourceEKS, d.fromEKS},
		{SourceToken, d.fromToken},
	}
	for _, s := range sources {
		if res.Issuer != "" && !d.CompareAll {
			break
		}
		if s.name == SourceToken && res.Issuer != "" {
			break // minting a token only to compare is not worth it
		}
		iss, err := s.get(ctx)
		c := IssuerCandidate{Source: s.name, Issuer: iss}
		if err != nil {
			c.Error = err.Error()
		}
		res.Candidates = append(res.Candidates, c)
		if err != nil || iss == "" {
			continue
		}
		if res.Issuer == "" {
			res.Issuer, res.Source = iss, s.name
		} else if strings.TrimRight(iss, "/") != strings.TrimRight(res.Issuer, "/") {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s says %s but %s says %s: the kubeconfig context may point at another cluster than the EKS cluster named", res.Source, res.Issuer, s.name, iss))
		}
	}
	if res.Issuer == "" {
		var reasons []string
		for _, c := range res.Candidates {
			reasons = append(reasons, c.Source+": "+c.Error)
		}
		return res, fmt.Errorf("%w (%s)", ErrIssuerNotFound, strings.Join(reasons, "; "))
	}
	if !strings.HasPrefix(res.Issuer, "https://") {
		return res, fmt.Errorf("the cluster's issuer %q is not an https URL: IAM OIDC providers need one (the API server's service account issuer must be https)", res.Issuer)
	}
	res.HostPath = strings.TrimRight(strings.TrimPrefix(res.Issuer, "https://"), "/")
	return res, nil
}

func (d *Discovery) fromAPIServer(ctx context.Context) (string, error) {
	rc := d.Kube.Discovery().RESTClient()
	if rc == nil {
		return "", errors.New("the Kubernetes client has no REST client for the discovery document")
	}
	body, err := rc.Get().AbsPath("/.well-known/openid-configuration").DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("GET /.well-known/openid-configuration: %w", err)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Issuer == "" {
		return "", errors.New("the API server's OIDC discovery document has no issuer")
	}
	return doc.Issuer, nil
}

func (d *Discovery) fromEKS(ctx context.Context) (string, error) {
	if d.EKS == nil {
		return "", errors.New("no AWS configuration to call EKS with")
	}
	if d.Cluster.Name == "" {
		return "", errors.New("no EKS cluster name (given, from an EKS context ARN or from the exec credential args)")
	}
	out, err := d.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(d.Cluster.Name)})
	if err != nil {
		return "", fmt.Errorf("eks:DescribeCluster %s: %w", d.Cluster.Name, awsapi.Short(err))
	}
	if out.Cluster == nil || out.Cluster.Identity == nil || out.Cluster.Identity.Oidc == nil {
		return "", fmt.Errorf("EKS cluster %s has no OIDC issuer", d.Cluster.Name)
	}
	return aws.ToString(out.Cluster.Identity.Oidc.Issuer), nil
}

func (d *Discovery) fromToken(ctx context.Context) (string, error) {
	if d.TokenServiceAccount == "" {
		return "", errors.New("no ServiceAccount to request a token for")
	}
	expiry := int64(600)
	tr, err := d.Kube.CoreV1().ServiceAccounts(d.TokenNamespace).CreateToken(ctx, d.TokenServiceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("TokenRequest for %s/%s: %w", d.TokenNamespace, d.TokenServiceAccount, err)
	}
	claims, err := TokenClaims(tr.Status.Token)
	if err != nil {
		return "", err
	}
	return claims.Issuer, nil
}

// Claims are the JWT claims of a ServiceAccount token that IRSA depends on.
type Claims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience []string `json:"aud"`
	Expiry   int64    `json:"exp"`
}

// TokenClaims decodes (without verifying) the payload of a JWT. The token itself is never kept or printed.
func TokenClaims(token string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("the token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Claims{}, fmt.Errorf("the token payload is not base64url: %w", err)
	}
	var raw struct {
		Claims
		Audience json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return Claims{}, fmt.Errorf("the token payload is not JSON: %w", err)
	}
	c := raw.Claims
	var one string
	if json.Unmarshal(raw.Audience, &one) == nil {
		c.Audience = []string{one}
	} else {
		_ = json.Unmarshal(raw.Audience, &c.Audience)
	}
	return c, nil
}

// APIServerIssuer is the issuer the API server's OIDC discovery document (/.well-known/openid-configuration)
// names.
func APIServerIssuer(ctx context.Context, kube kubernetes.Interface) (string, error) {
	return (&Discovery{Kube: kube}).fromAPIServer(ctx)
}
