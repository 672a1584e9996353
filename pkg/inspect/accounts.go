package inspect

import (
	"context"
	"sync"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
)

// Cross-account reads go through the one router (state.Router) and the one role and provider reader
// (state.Reader): a role in another account is read with that account's credentials, or not at all (a
// "could not check" note, never "does not exist").

// readers is the Inspector's state reader, built once from its router (or, without one, IAM for every account).
type readers struct {
	once   sync.Once
	reader *state.Reader[IAMAPI]
}

func (in *Inspector) state() *state.Reader[IAMAPI] {
	in.readers.once.Do(func() {
		accounts := in.Accounts
		if accounts == nil {
			accounts = state.NewRouter[IAMAPI](in.IAM, nil, nil)
		}
		in.readers.reader = state.NewReader(accounts)
	})
	return in.readers.reader
}

// clientOf is the IAM client of an account already resolved, else IAM.
func (in *Inspector) clientOf(account string) IAMAPI {
	if client, _, err, ok := in.state().Accounts().Known(account); ok && err == nil {
		return client
	}
	return in.IAM
}

// getRole reads a role from its own account.
func (in *Inspector) getRole(ctx context.Context, r iamref.Role) state.Role {
	return in.state().Role(ctx, r)
}

// getProvider reads an OIDC provider from its own account.
func (in *Inspector) getProvider(ctx context.Context, account, arn string) state.Provider {
	return in.state().Provider(ctx, account, arn)
}
