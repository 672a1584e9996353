// Package eksauth is a small client of the EKS Auth API (AssumeRoleForPodIdentity), the call the EKS Pod
// Identity Agent makes to exchange a ServiceAccount token for the associated role's credentials.
//
// It is hand-written because github.com/aws/aws-sdk-go-v2/service/eksauth is not served by the module proxy
// this project builds from. It speaks the API's wire format (REST-JSON, POST
// /clusters/NAME/assume-role-for-pod-identity, SigV4 with the signing name eks-auth) with aws-sdk-go-v2's own
// signer, retryer and credentials, and types errors by x-amzn-ErrorType / __type as the API reference lists them.
package eksauth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
)

// SigningName is the service name in the SigV4 scope.
const SigningName = "eks-auth"

// Error codes of AssumeRoleForPodIdentity (EKS Auth API reference).
const (
	AccessDenied        = "AccessDeniedException"
	ExpiredToken        = "ExpiredTokenException"
	InternalServer      = "InternalServerException"
	InvalidParameter    = "InvalidParameterException"
	InvalidRequest      = "InvalidRequestException"
	InvalidToken        = "InvalidTokenException"
	ResourceNotFound    = "ResourceNotFoundException"
	ServiceUnavailable  = "ServiceUnavailableException"
	Throttling          = "ThrottlingException"
	defaultTimeout      = 30 * time.Second
	maxResponseBodySize = 1 << 20
)

// Error is an EKS Auth error answer; it implements smithy.APIError, so the SDK's error helpers and retryer
// understand it.
type Error struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("eks-auth:AssumeRoleForPodIdentity: %s: %s (HTTP %d)", e.Code, e.Message, e.StatusCode)
}

// ErrorCode returns the exception name, such as AccessDeniedException.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns the service's message.
func (e *Error) ErrorMessage() string { return e.Message }

// ErrorFault says whether the caller or the service is at fault.
func (e *Error) ErrorFault() smithy.ErrorFault {
	if e.StatusCode >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// HTTPStatusCode lets the SDK retryer treat 5xx answers as transient.
func (e *Error) HTTPStatusCode() int { return e.StatusCode }

// RetryableError marks throttling and unavailability as retryable.
func (e *Error) RetryableError() bool {
	return e.Code == Throttling || e.Code == ServiceUnavailable || e.Code == InternalServer
}

// IsCode reports whether err is an EKS Auth error with the code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Client calls EKS Auth with an aws.Config's credentials, region, endpoint, HTTP client and retryer.
type Client struct {
	cfg      aws.Config
	endpoint string
	signer   *v4.Signer
}

// New returns a client for the config's region. The endpoint is AWS_ENDPOINT_URL_EKS_AUTH, else the config's
// BaseEndpoint (AWS_ENDPOINT_URL), else https://eks-auth.REGION.api.aws.
func New(cfg aws.Config) *Client {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_EKS_AUTH")
	if endpoint == "" && cfg.BaseEndpoint != nil {
		endpoint = *cfg.BaseEndpoint
	}
	if endpoint == "" {
		endpoint = "https://eks-auth." + cfg.Region + ".api.aws"
	}
	return &Client{cfg: cfg, endpoint: strings.TrimRight(endpoint, "/"), signer: v4.NewSigner()}
}

// Endpoint is the base URL the client calls.
func (c *Client) Endpoint() string { return c.endpoint }

// Output is AssumeRoleForPodIdentity's answer.
type Output struct {
	Namespace, ServiceAccount string
	Audience                  string
	AssociationARN            string
	AssociationID             string
	AssumedRoleARN            string
	AssumeRoleID              string
	// Credentials are the role's temporary credentials: never print them.
	Credentials aws.Credentials
}

// AssumeRoleForPodIdentity exchanges a ServiceAccount token (audience pods.eks.amazonaws.com) for the
// credentials of the role associated with its ServiceAccount, retrying throttling and 5xx answers as the
// config's retryer decides.
func (c *Client) AssumeRoleForPodIdentity(ctx context.Context, clusterName, token string) (*Output, error) {
	if clusterName == "" {
		return nil, errors.New("eks-auth:AssumeRoleForPodIdentity needs the EKS cluster name")
	}
	body, err := json.Marshal(map[string]string{"token": token})
	if err != nil {
		return nil, err
	}
	attempts := 1
	var retryer aws.Retryer
	if c.cfg.Retryer != nil {
		retryer = c.cfg.Retryer()
		attempts = max(1, retryer.MaxAttempts())
	}
	for attempt := 1; ; attempt++ {
		out, err := c.do(ctx, clusterName, body)
		if err == nil || retryer == nil || attempt >= attempts || !retryer.IsErrorRetryable(err) {
			return out, err
		}
		delay, derr := retryer.RetryDelay(attempt, err)
		if derr != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

func (c *Client) do(ctx context.Context, clusterName string, body []byte) (*Output, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	u := c.endpoint + "/clusters/" + url.PathEscape(clusterName) + "/assume-role-for-pod-identity"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("eks-auth: bad endpoint %s: %w (check AWS_ENDPOINT_URL_EKS_AUTH / AWS_ENDPOINT_URL)", c.endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.Credentials != nil {
		creds, err := c.cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("eks-auth: no AWS credentials: %w", err)
		}
		sum := sha256.Sum256(body)
		if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), SigningName, c.cfg.Region, time.Now().UTC()); err != nil {
			return nil, fmt.Errorf("eks-auth: sign request: %w", err)
		}
	}
	client := http.DefaultClient
	if hc, ok := c.cfg.HTTPClient.(*http.Client); ok && hc != nil {
		client = hc
	} else if c.cfg.HTTPClient != nil {
		resp, err := c.cfg.HTTPClient.Do(req)
		return decode(resp, err)
	}
	resp, err := client.Do(req)
	return decode(resp, err)
}

// wire is the answer's JSON shape.
type wire struct {
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

func decode(resp *http.Response, err error) (*Output, error) {
	if err != nil {
		return nil, &retryableNetError{err: fmt.Errorf("eks-auth: %w", err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBodySize))
	if err != nil {
		return nil, &retryableNetError{err: fmt.Errorf("eks-auth: read answer: %w", err)}
	}
	if resp.StatusCode/100 != 2 {
		return nil, apiError(resp, raw)
	}
	var w wire
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("eks-auth: answer is not AssumeRoleForPodIdentity's JSON: %w", err)
	}
	return &Output{
		Namespace: w.Subject.Namespace, ServiceAccount: w.Subject.ServiceAccount, Audience: w.Audience,
		AssociationARN: w.PodIdentityAssociation.AssociationArn, AssociationID: w.PodIdentityAssociation.AssociationID,
		AssumedRoleARN: w.AssumedRoleUser.Arn, AssumeRoleID: w.AssumedRoleUser.AssumeRoleID,
		Credentials: aws.Credentials{
			AccessKeyID: w.Credentials.AccessKeyID, SecretAccessKey: w.Credentials.SecretAccessKey,
			SessionToken: w.Credentials.SessionToken, CanExpire: w.Credentials.Expiration > 0,
			Expires: time.Unix(int64(w.Credentials.Expiration), 0).UTC(), Source: "EKSAuth",
		},
	}, nil
}

// apiError types an error answer by x-amzn-ErrorType, else the body's __type or code ("prefix#Name:url" forms
// are cut to Name).
func apiError(resp *http.Response, raw []byte) *Error {
	var body struct {
		Type    string `json:"__type"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Upper   string `json:"Message"`
	}
	_ = json.Unmarshal(raw, &body)
	code := resp.Header.Get("X-Amzn-Errortype")
	for _, c := range []string{body.Type, body.Code} {
		if code == "" {
			code = c
		}
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	msg := body.Message
	if msg == "" {
		msg = body.Upper
	}
	return &Error{StatusCode: resp.StatusCode, Code: code, Message: msg, RequestID: resp.Header.Get("X-Amzn-Requestid")}
}

// retryableNetError is a transport failure: the SDK retryer retries it.
type retryableNetError struct{ err error }

func (e *retryableNetError) Error() string        { return e.err.Error() }
func (e *retryableNetError) Unwrap() error        { return e.err }
func (e *retryableNetError) RetryableError() bool { return true }
