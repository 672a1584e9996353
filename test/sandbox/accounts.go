package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// SecondAccount is the account tests use for cross-account roles: moto keeps its resources apart from Account's.
const SecondAccount = "222222222222"

// accounts gives credentials that act in a given moto account and tells which account a request's credentials
// act in. moto's rule: the sandbox's own keys (and any key it does not know) act in Account; keys returned by
// sts:AssumeRole act in the assumed role's account, even when that role does not exist.
type accounts struct {
	moto string

	mu    sync.Mutex
	creds map[string]aws.Credentials // account -> credentials acting there
	byKey map[string]string          // access key ID -> account
}

func newAccounts(moto string) *accounts {
	return &accounts{moto: moto, creds: map[string]aws.Credentials{}, byKey: map[string]string{AccessKeyID: Account}}
}

// credentials returns credentials acting in account.
func (a *accounts) credentials(ctx context.Context, account string) (aws.Credentials, error) {
	if account == Account {
		return aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, Source: "sandbox"}, nil
	}
	a.mu.Lock()
	c, ok := a.creds[account]
	a.mu.Unlock()
	if ok {
		return c, nil
	}
	client := sts.New(sts.Options{Region: Region, BaseEndpoint: aws.String(a.moto),
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")})
	out, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(fmt.Sprintf("arn:aws:iam::%s:role/sandbox-account-access", account)),
		RoleSessionName: aws.String("sandbox"),
		DurationSeconds: aws.Int32(43200),
	})
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("credentials for account %s: %w", account, err)
	}
	c = aws.Credentials{
		AccessKeyID:     aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken:    aws.ToString(out.Credentials.SessionToken),
		Source:          "sandbox",
	}
	a.mu.Lock()
	a.creds[account] = c
	a.byKey[c.AccessKeyID] = account
	a.mu.Unlock()
	return c, nil
}

// accountOf is the account the request's credentials act in, asked of moto's STS GetCallerIdentity for keys the
// sandbox did not mint (moto does not check signatures, so the access key and session token are enough).
func (a *accounts) accountOf(r *http.Request) (string, error) {
	key := accessKeyID(r)
	if key == "" {
		return Account, nil
	}
	a.mu.Lock()
	acct, ok := a.byKey[key]
	a.mu.Unlock()
	if ok {
		return acct, nil
	}
	client := sts.New(sts.Options{Region: Region, BaseEndpoint: aws.String(a.moto),
		Credentials: credentials.NewStaticCredentialsProvider(key, "unused", r.Header.Get("X-Amz-Security-Token"))})
	out, err := client.GetCallerIdentity(r.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	acct = aws.ToString(out.Account)
	a.mu.Lock()
	a.byKey[key] = acct
	a.mu.Unlock()
	return acct, nil
}

// AccountCredentials returns credentials that act in account (Account or any other 12-digit id, e.g.
// SecondAccount) for IAM, STS and EKS calls to the sandbox.
func (s *Sandbox) AccountCredentials(ctx context.Context, account string) (aws.Credentials, error) {
	return s.accounts.credentials(ctx, account)
}

// AccountEnv returns the environment overrides (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) that
// make a child process act in account.
func (s *Sandbox) AccountEnv(ctx context.Context, account string) ([]string, error) {
	c, err := s.accounts.credentials(ctx, account)
	if err != nil {
		return nil, err
	}
	return []string{"AWS_ACCESS_KEY_ID=" + c.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey, "AWS_SESSION_TOKEN=" + c.SessionToken}, nil
}
