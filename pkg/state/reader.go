package state

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

// IAMReader reads roles and OIDC providers; *iam.Client implements it.
type IAMReader interface {
	RoleAPI
	ProviderAPI
}

// RoleReadAPI is every IAM read of a role (and of its account's OIDC provider): the reads setup and inspect
// share; *iam.Client implements it.
type RoleReadAPI interface {
	IAMReader
	InlineAPI
	AttachedAPI
	ManagedPolicyAPI
}

// Reader reads roles and OIDC providers for the read commands: each from its account's credentials (the
// Router) and once per run (cached by ARN, concurrent readers of one ARN share one call). Safe for concurrent use.
type Reader[C IAMReader] struct {
	accounts *Router[C]

	mu        sync.Mutex
	roles     map[string]*once[Role]
	providers map[string]*once[Provider]
}

// once is a value read at most once.
type once[T any] struct {
	sync.Once
	v T
}

// NewReader returns the reader of one run.
func NewReader[C IAMReader](accounts *Router[C]) *Reader[C] { return &Reader[C]{accounts: accounts} }

// Accounts is the reader's router.
func (r *Reader[C]) Accounts() *Router[C] { return r.accounts }

// Role reads the role an ARN names, by its name, from the role's account (cached by ARN). The caller's
// credentials are tried first, so the common same-account case costs no sts:GetCallerIdentity: only an answer
// that does not prove the role (missing, failed, or a role of the same name in another account) asks the router.
// A role no credentials can read is Unknown with an error wrapping ErrNoAccountClient.
func (r *Reader[C]) Role(ctx context.Context, ref iamref.Role) Role {
	return cachedRead(&r.mu, &r.roles, ref.ARN, func() Role { return r.readRole(ctx, ref) })
}

// Roles reads each role, at most maxInFlight at a time, and returns them by ARN.
func (r *Reader[C]) Roles(ctx context.Context, refs []iamref.Role) map[string]Role {
	out := make(map[string]Role, len(refs))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxInFlight)
	for _, ref := range refs {
		g.Go(func() error {
			role := r.Role(gctx, ref)
			mu.Lock()
			out[ref.ARN] = role
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait() // every read returns nil: a failed one is an Unknown role
	return out
}

func (r *Reader[C]) readRole(ctx context.Context, ref iamref.Role) Role {
	if client, _, err, ok := r.accounts.Known(ref.Account); ok {
		if err != nil {
			return Role{Name: ref.Name, Presence: Unknown, Err: err}
		}
		return ReadRole(ctx, client, ref.Name)
	}
	res := ReadRole(ctx, r.accounts.Home(), ref.Name)
	if res.Presence == Found && res.Account != "" {
		// GetRole answers from the credentials' account: the ARN it returns tells that account for free.
		r.accounts.LearnHome(res.Account)
		if res.Account == ref.Account {
			return res
		}
	}
	client, home, err := r.accounts.Route(ctx, ref.Account)
	switch {
	case err != nil:
		return Role{Name: ref.Name, Presence: Unknown, Err: err}
	case home:
		return res
	}
	return ReadRole(ctx, client, ref.Name)
}

// Provider reads an OIDC provider from its account (cached by ARN); Unknown with an error wrapping
// ErrNoAccountClient when no credentials can read it.
func (r *Reader[C]) Provider(ctx context.Context, account, arn string) Provider {
	return cachedRead(&r.mu, &r.providers, arn, func() Provider {
		if client, _, err, ok := r.accounts.Known(account); ok {
			if err != nil {
				return Provider{ARN: arn, Presence: Unknown, Err: err}
			}
			return ReadProvider(ctx, client, arn)
		}
		res := ReadProvider(ctx, r.accounts.Home(), arn)
		if res.Presence == Found {
			return res
		}
		client, home, err := r.accounts.Route(ctx, account)
		switch {
		case err != nil:
			return Provider{ARN: arn, Presence: Unknown, Err: err}
		case home:
			return res
		}
		return ReadProvider(ctx, client, arn)
	})
}

// cachedRead returns the value of key, reading it once (concurrent callers of one key wait for that read).
func cachedRead[T any](mu *sync.Mutex, m *map[string]*once[T], key string, read func() T) T {
	mu.Lock()
	if *m == nil {
		*m = map[string]*once[T]{}
	}
	e := (*m)[key]
	if e == nil {
		e = &once[T]{}
		(*m)[key] = e
	}
	mu.Unlock()
	e.Do(func() { e.v = read() })
	return e.v
}
