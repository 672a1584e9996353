package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/pflag"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// ErrNoAccountCredentials: a role lives in another account than the caller's and no credentials for that
// account were given.
var ErrNoAccountCredentials = errors.New("no AWS credentials for the role's account")

// addRoleProfileFlag registers --role-profile on a command that reads or writes roles.
func (g *GlobalFlags) addRoleProfileFlag(flags *pflag.FlagSet) {
	flags.StringVar(&g.RoleProfile, "role-profile", "", "AWS profile whose credentials act in the role's account, for a role in another account than the caller's")
}

// NoAccountCredentials is the one-line error for a role in another account without --role-profile.
func NoAccountCredentials(account, callerAccount string) error {
	return fmt.Errorf("%w: the role is in account %s, the AWS credentials in account %s (pass --role-profile with a profile of account %s)",
		ErrNoAccountCredentials, account, callerAccount, account)
}

// roleProfile memoises the clients of --role-profile and the account they act in.
type roleProfile struct {
	once    sync.Once
	clients *AWSClients
	account string
	err     error
}

// RoleAWS returns the clients acting in account: the caller's, else those of --role-profile (loaded through
// the SDK's shared config, so assume-role profile chains work), checked with sts:GetCallerIdentity to be in
// that account.
func (f *factory) RoleAWS(ctx context.Context, account string) (*AWSClients, error) {
	caller, err := f.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if caller.Account == account {
		return f.AWS(ctx)
	}
	if f.flags.RoleProfile == "" {
		return nil, NoAccountCredentials(account, caller.Account)
	}
	p, err := f.loadRoleProfile(ctx)
	if err != nil {
		return nil, err
	}
	if p.account != account {
		return nil, fmt.Errorf("%w: the role is in account %s, profile %s in account %s (pass --role-profile with a profile of account %s)",
			ErrNoAccountCredentials, account, f.flags.RoleProfile, p.account, account)
	}
	return p.clients, nil
}

// loadRoleProfile loads --role-profile once (through the SDK's shared config, so assume-role profile chains
// work) and finds the account it acts in with sts:GetCallerIdentity.
func (f *factory) loadRoleProfile(ctx context.Context) (*roleProfile, error) {
	home, err := f.AWS(ctx)
	if err != nil {
		return nil, err
	}
	p := &f.role
	p.once.Do(func() {
		cfg, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile(f.flags.RoleProfile), config.WithRegion(home.Region),
			config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(awsHTTPTimeout)))
		if err != nil {
			p.err = fmt.Errorf("cannot load AWS profile %s: %w (check --role-profile and ~/.aws/config)", f.flags.RoleProfile, err)
			return
		}
		p.clients = newAWSClients(cfg)
		c, err := awsapi.WhoAmI(ctx, p.clients.STS)
		if err != nil {
			p.err = fmt.Errorf("AWS profile %s: %w", f.flags.RoleProfile, err)
			return
		}
		p.account = c.Account
	})
	return p, p.err
}

// RoleProfileAccount is the account --role-profile acts in, "" without --role-profile.
func (f *factory) RoleProfileAccount(ctx context.Context) (string, error) {
	if f.flags.RoleProfile == "" {
		return "", nil
	}
	p, err := f.loadRoleProfile(ctx)
	if err != nil {
		return "", err
	}
	return p.account, nil
}

// otherAccount returns the clients of account when it is not the caller's (nil when it is).
func otherAccount(ctx context.Context, f Factory, account string) (*AWSClients, error) {
	caller, err := f.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if caller.Account == account {
		return nil, nil
	}
	return f.RoleAWS(ctx, account)
}

// accountIAM adapts Factory.RoleAWS to the Inspector: nil (use the caller's client) for the caller's account.
func accountIAM(f Factory) func(ctx context.Context, account string) (inspect.IAMAPI, error) {
	return func(ctx context.Context, account string) (inspect.IAMAPI, error) {
		c, err := otherAccount(ctx, f, account)
		if err != nil || c == nil {
			return nil, err
		}
		return c.IAM, nil
	}
}

// setupAccountIAM adapts Factory.RoleAWS to the write side: nil (the caller's client) for the caller's account.
func setupAccountIAM(f Factory) func(ctx context.Context, account string) (setup.IAMAPI, error) {
	return func(ctx context.Context, account string) (setup.IAMAPI, error) {
		c, err := otherAccount(ctx, f, account)
		if err != nil || c == nil {
			return nil, err
		}
		return c.IAM, nil
	}
}

// stsEndpoint is the STS endpoint URL the environment overrides (AWS_ENDPOINT_URL_STS, else
// AWS_ENDPOINT_URL), "" for AWS's own.
func stsEndpoint() string {
	if strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return ""
	}
	if e := os.Getenv("AWS_ENDPOINT_URL_STS"); e != "" {
		return e
	}
	return os.Getenv("AWS_ENDPOINT_URL")
}
