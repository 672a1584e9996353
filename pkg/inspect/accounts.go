package inspect

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

// Cross-account reads. IAM answers GetRole by name, and GetOpenIDConnectProvider, from the account of the
// credentials: a role in another account must be read with that account's credentials, or not at all (a
// "could not check" note, never "does not exist"). The caller's client is tried first, so the common
// same-account case costs no extra call; only an answer that does not prove the resource (not found, an
// error, or a role of the same name in another account) asks AccountIAM which account the credentials are in.

// errAccount marks a read that was not made because no client acts in the resource's account.
var errAccount = errors.New("no client for the account")

type accountErr struct{ err error }

func (e accountErr) Error() string   { return e.err.Error() }
func (e accountErr) Unwrap() []error { return []error{errAccount, e.err} }

// accountClient is the resolved client of an account: home when it is IAM's own.
type accountClient struct {
	iam  IAMAPI
	home bool
	err  error
}

// account resolves (once) the client of an account.
func (in *Inspector) account(ctx context.Context, account string) accountClient {
	if in.AccountIAM == nil {
		return accountClient{iam: in.IAM, home: true}
	}
	in.resolving.Lock()
	defer in.resolving.Unlock()
	in.mu.Lock()
	c, ok := in.accounts[account]
	in.mu.Unlock()
	if ok {
		return c
	}
	client, err := in.AccountIAM(ctx, account)
	switch {
	case err != nil:
		c = accountClient{err: accountErr{err}}
	case client == nil:
		c = accountClient{iam: in.IAM, home: true}
	default:
		c = accountClient{iam: client}
	}
	in.mu.Lock()
	if in.accounts == nil {
		in.accounts = map[string]accountClient{}
	}
	in.accounts[account] = c
	in.mu.Unlock()
	return c
}

// clientOf is the IAM client of an account already resolved, else IAM.
func (in *Inspector) clientOf(account string) IAMAPI {
	in.mu.Lock()
	defer in.mu.Unlock()
	if c, ok := in.accounts[account]; ok && c.iam != nil {
		return c.iam
	}
	return in.IAM
}

// learnHome records the account IAM's credentials act in, as seen in an answer.
func (in *Inspector) learnHome(account string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.accounts == nil {
		in.accounts = map[string]accountClient{}
	}
	if _, ok := in.accounts[account]; !ok {
		in.accounts[account] = accountClient{iam: in.IAM, home: true}
	}
}

// resolved reports whether the account's client is known.
func (in *Inspector) resolved(account string) (accountClient, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	c, ok := in.accounts[account]
	return c, ok
}

// getRole reads a role from its own account (errAccount when no client acts there).
func (in *Inspector) getRole(ctx context.Context, r iamref.Role) (*iam.GetRoleOutput, error) {
	get := func(client IAMAPI) (*iam.GetRoleOutput, error) {
		return client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(r.Name)})
	}
	if c, ok := in.resolved(r.Account); ok {
		if c.err != nil {
			return nil, c.err
		}
		return get(c.iam)
	}
	res, err := get(in.IAM)
	if in.AccountIAM == nil {
		return res, err
	}
	if err == nil {
		if got, perr := iamref.ParseRole(aws.ToString(res.Role.Arn)); perr == nil {
			// GetRole answers from the credentials' account: the ARN it returns tells that account for free.
			in.learnHome(got.Account)
			if got.Account == r.Account {
				return res, nil
			}
		}
	}
	if c, ok := in.resolved(r.Account); ok && c.home {
		return res, err
	}
	c := in.account(ctx, r.Account)
	switch {
	case c.err != nil:
		return nil, c.err
	case c.home:
		return res, err
	}
	return get(c.iam)
}

// getProvider reads an OIDC provider from its own account (errAccount when no client acts there).
func (in *Inspector) getProvider(ctx context.Context, account, arn string) (*iam.GetOpenIDConnectProviderOutput, error) {
	get := func(client IAMAPI) (*iam.GetOpenIDConnectProviderOutput, error) {
		return client.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	}
	if c, ok := in.resolved(account); ok {
		if c.err != nil {
			return nil, c.err
		}
		return get(c.iam)
	}
	res, err := get(in.IAM)
	if in.AccountIAM == nil || err == nil {
		return res, err
	}
	c := in.account(ctx, account)
	switch {
	case c.err != nil:
		return nil, c.err
	case c.home:
		return res, err
	}
	return get(c.iam)
}
