package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// AdminUser is the IAM user whose access key the sandbox's clients use when moto enforces access control.
const AdminUser = "sandbox-admin"

// enableMotoAuth switches on moto's IAM-like access control (the INITIAL_NO_AUTH_ACTION_COUNT mechanism, set
// to 0 through moto's /moto-api/reset-auth once the sandbox is set up): from then on every request must be
// signed with an access key moto issued, and is allowed only by the caller's identity policies. The sandbox's
// clients get the key of AdminUser, who may do anything; a role's session may do what its policies allow.
//
// moto then answers an unsigned request with HTTP 500, but STS's AssumeRoleWithWebIdentity is unsigned in every
// SDK (as real STS accepts it): the proxy signs such a request with the admin's key before passing it on.
func (s *Sandbox) enableMotoAuth(ctx context.Context) error {
	client := iam.New(iam.Options{Region: Region, BaseEndpoint: aws.String(s.MotoEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")})
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(AdminUser)}); err != nil {
		return fmt.Errorf("create the sandbox admin: %w", err)
	}
	if _, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(AdminUser), PolicyName: aws.String("all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}); err != nil {
		return fmt.Errorf("allow the sandbox admin: %w", err)
	}
	key, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(AdminUser)})
	if err != nil {
		return fmt.Errorf("create the sandbox admin's key: %w", err)
	}
	s.accessKeyID, s.secretAccessKey = aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
	s.accounts.mu.Lock()
	s.accounts.byKey[s.accessKeyID] = Account
	s.accounts.mu.Unlock()
	s.AWS.mu.Lock()
	s.AWS.signUnsigned = &aws.Credentials{AccessKeyID: s.accessKeyID, SecretAccessKey: s.secretAccessKey}
	s.AWS.mu.Unlock()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.MotoEndpoint+"/moto-api/reset-auth", strings.NewReader("0"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("switch on moto's access control: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("switch on moto's access control: HTTP %d: %s", resp.StatusCode, b)
	}
	return nil
}

// signSTS signs an unsigned STS request (AssumeRoleWithWebIdentity) with creds, for a moto that enforces
// access control; the Host the client sent is kept, as moto checks the signature against it.
func signSTS(r *http.Request, body []byte, creds *aws.Credentials) error {
	sum := sha256.Sum256(body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	return v4.NewSigner().SignHTTP(r.Context(), *creds, r, hex.EncodeToString(sum[:]), "sts", Region, time.Now())
}
