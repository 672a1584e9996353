package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// EKSAuthClient calls EKS Auth AssumeRoleForPodIdentity on its wire format (REST-JSON, POST
// /clusters/NAME/assume-role-for-pod-identity, SigV4 with the service name eks-auth), signed by aws-sdk-go-v2's own
// SigV4 signer. It stands in for github.com/aws/aws-sdk-go-v2/service/eksauth, which the Go module proxy this
// project builds from does not serve.
type EKSAuthClient struct {
	// Endpoint is the base URL (the sandbox's AWSEndpoint).
	Endpoint    string
	Region      string
	Credentials aws.CredentialsProvider
	HTTPClient  *http.Client
}

// PodIdentityCredentials is AssumeRoleForPodIdentity's answer.
type PodIdentityCredentials struct {
	Namespace, ServiceAccount     string
	Audience                      string
	AssociationARN, AssociationID string
	AssumedRoleARN, AssumeRoleID  string
	Credentials                   aws.Credentials
}

// EKSAuthError is an EKS Auth error answer: Code is the x-amzn-ErrorType (e.g. InvalidTokenException).
type EKSAuthError struct {
	StatusCode    int
	Code, Message string
}

func (e *EKSAuthError) Error() string {
	return fmt.Sprintf("EKS Auth: AssumeRoleForPodIdentity, StatusCode: %d, %s: %s", e.StatusCode, e.Code, e.Message)
}

// ErrorCode returns the error type, as smithy.APIError does.
func (e *EKSAuthError) ErrorCode() string { return e.Code }

// AssumeRoleForPodIdentity exchanges a ServiceAccount token (audience pods.eks.amazonaws.com) for the associated
// role's credentials.
func (c *EKSAuthClient) AssumeRoleForPodIdentity(ctx context.Context, clusterName, token string) (*PodIdentityCredentials, error) {
	body, err := json.Marshal(map[string]string{"token": token})
	if err != nil {
		return nil, err
	}
	u := strings.TrimRight(c.Endpoint, "/") + "/clusters/" + url.PathEscape(clusterName) + "/assume-role-for-pod-identity"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Credentials != nil {
		creds, err := c.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "eks-auth", c.Region, time.Now()); err != nil {
			return nil, err
		}
	}
	client := c.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e)
		code := resp.Header.Get("X-Amzn-Errortype")
		if i := strings.IndexAny(code, ":"); i >= 0 {
			code = code[:i]
		}
		return nil, &EKSAuthError{StatusCode: resp.StatusCode, Code: code, Message: e.Message}
	}
	var out struct {
		Subject struct {
			Namespace      string `json:"namespace"`
			ServiceAccount string `json:"serviceAccount"`
		} `json:"subject"`
		Audience               string `json:"audience"`
		PodIdentityAssociation struct {
			AssociationArn string `json:"associationArn"`
			AssociationID  string `json:"associationId"`
		} `json:"podIdentityAssociation"`
		AssumedRoleUser struct {
			Arn          string `json:"arn"`
			AssumeRoleID string `json:"assumeRoleId"`
		} `json:"assumedRoleUser"`
		Credentials struct {
			AccessKeyID     string  `json:"accessKeyId"`
			SecretAccessKey string  `json:"secretAccessKey"`
			SessionToken    string  `json:"sessionToken"`
			Expiration      float64 `json:"expiration"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("EKS Auth: decode answer: %w", err)
	}
	return &PodIdentityCredentials{
		Namespace: out.Subject.Namespace, ServiceAccount: out.Subject.ServiceAccount, Audience: out.Audience,
		AssociationARN: out.PodIdentityAssociation.AssociationArn, AssociationID: out.PodIdentityAssociation.AssociationID,
		AssumedRoleARN: out.AssumedRoleUser.Arn, AssumeRoleID: out.AssumedRoleUser.AssumeRoleID,
		Credentials: aws.Credentials{
			AccessKeyID: out.Credentials.AccessKeyID, SecretAccessKey: out.Credentials.SecretAccessKey,
			SessionToken: out.Credentials.SessionToken, CanExpire: true,
			Expires: time.Unix(int64(out.Credentials.Expiration), 0), Source: "EKSAuth",
		},
	}, nil
}
