package plugin

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
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// eksAuthFactory is a Factory that also gives the EKS Auth client (the test factory does).
type eksAuthFactory interface {
	EKSAuth(ctx context.Context) (setup.EKSAuthAPI, error)
}

// eksAuth returns the EKS Auth client: the factory's when it has one, else a SigV4 client on the SDK's default
// configuration (aws-sdk-go-v2's eksauth module is not on the module proxy this project builds from).
func (g *Globals) eksAuth(ctx context.Context) (setup.EKSAuthAPI, error) {
	if f, ok := g.Factory.(eksAuthFactory); ok {
		return f.EKSAuth(ctx)
	}
	clients, err := g.Factory.AWS(ctx)
	if err != nil {
		return nil, err
	}
	var opts []func(*config.LoadOptions) error
	if g.Flags != nil && g.Flags.AWSProfile != "" {
		opts = append(opts, config.WithSharedConfigProfile(g.Flags.AWSProfile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, append(opts, config.WithRegion(clients.Region))...)
	if err != nil {
		return nil, fmt.Errorf("cannot load AWS configuration: %w (check AWS_PROFILE/--aws-profile)", err)
	}
	endpoint := "https://eks-auth." + cfg.Region + ".api.aws"
	for _, v := range []string{"AWS_ENDPOINT_URL_EKS_AUTH", "AWS_ENDPOINT_URL"} {
		if e := os.Getenv(v); e != "" {
			endpoint = e
			break
		}
	}
	return &eksAuthClient{endpoint: endpoint, region: cfg.Region, creds: cfg.Credentials, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// eksAuthClient calls EKS Auth AssumeRoleForPodIdentity on its wire format: REST-JSON, POST
// /clusters/NAME/assume-role-for-pod-identity, SigV4 with the service name eks-auth.
type eksAuthClient struct {
	endpoint, region string
	creds            aws.CredentialsProvider
	http             *http.Client
}

func (c *eksAuthClient) AssumeRoleForPodIdentity(ctx context.Context, clusterName, token string) (aws.Credentials, error) {
	body, _ := json.Marshal(map[string]string{"token": token})
	u := strings.TrimRight(c.endpoint, "/") + "/clusters/" + url.PathEscape(clusterName) + "/assume-role-for-pod-identity"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return aws.Credentials{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.creds == nil {
		return aws.Credentials{}, fmt.Errorf("no AWS credentials to sign the EKS Auth request")
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("cannot retrieve AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "eks-auth", c.region, time.Now()); err != nil {
		return aws.Credentials{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("EKS Auth at %s unreachable: %w", c.endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return aws.Credentials{}, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e)
		code, _, _ := strings.Cut(resp.Header.Get("X-Amzn-Errortype"), ":")
		if code == "" {
			code = fmt.Sprintf("HTTP%d", resp.StatusCode)
		}
		return aws.Credentials{}, &smithy.GenericAPIError{Code: code, Message: e.Message}
	}
	var out struct {
		Credentials struct {
			AccessKeyID     string  `json:"accessKeyId"`
			SecretAccessKey string  `json:"secretAccessKey"`
			SessionToken    string  `json:"sessionToken"`
			Expiration      float64 `json:"expiration"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Credentials.AccessKeyID == "" {
		return aws.Credentials{}, fmt.Errorf("EKS Auth answered without credentials")
	}
	return aws.Credentials{AccessKeyID: out.Credentials.AccessKeyID, SecretAccessKey: out.Credentials.SecretAccessKey,
		SessionToken: out.Credentials.SessionToken, CanExpire: true, Expires: time.Unix(int64(out.Credentials.Expiration), 0), Source: "EKSAuth"}, nil
}
