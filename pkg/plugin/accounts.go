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
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
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

// RoleProfileAWS returns the clients of --role-profile (nil without it).
func (f *factory) RoleProfileAWS(ctx context.Context) (*AWSClients, error) {
	if f.flags.RoleProfile == "" {
		return nil, nil
	}
	p, err := f.loadRoleProfile(ctx)
	if err != nil {
		return nil, err
	}
	return p.clients, nil
}

// accountRouter is the run's account router (state.Router) for clients of type C: the caller's for the
// caller's account, --role-profile's for the account it acts in, else ErrNoAccountCredentials naming the flag.
func accountRouter[C any](g *Globals, home C, pick func(*AWSClients) C) *state.Router[C] {
	f := g.Factory
	homeAccount := func(ctx context.Context) (string, error) {
		c, err := f.Caller(ctx)
		return c.Account, err
	}
	other := func(ctx context.Context, account string) (C, error) {
		var none C
		caller, err := f.Caller(ctx)
		if err != nil {
			return none, err
		}
		profileAccount, err := f.RoleProfileAccount(ctx)
		switch {
		case err != nil:
			return none, err
		case profileAccount == "":
			return none, NoAccountCredentials(account, caller.Account)
		case profileAccount != account:
			return none, fmt.Errorf("%w: the role is in account %s, profile %s in account %s (pass --role-profile with a profile of account %s)",
				ErrNoAccountCredentials, account, g.Flags.RoleProfile, profileAccount, account)
		}
		clients, err := f.RoleProfileAWS(ctx)
		if err != nil {
			return none, err
		}
		if clients == nil {
			return none, NoAccountCredentials(account, caller.Account)
		}
		return pick(clients), nil
	}
	return state.NewRouter(home, homeAccount, other)
}

// setupAccounts and inspectAccounts are the router of the write side and of the read side.
func setupAccounts(g *Globals, clients *AWSClients) *state.Router[setup.IAMAPI] {
	return accountRouter[setup.IAMAPI](g, clients.IAM, func(c *AWSClients) setup.IAMAPI { return c.IAM })
}

func inspectAccounts(g *Globals, clients *AWSClients) *state.Router[inspect.IAMAPI] {
	return accountRouter[inspect.IAMAPI](g, clients.IAM, func(c *AWSClients) inspect.IAMAPI { return c.IAM })
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
