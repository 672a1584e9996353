package state

import (
	"context"
	"errors"
	"sync"
)

// ErrNoAccountClient marks a read or write that was not made because no credentials act in the resource's
// account (a read is then "could not check", never "does not exist").
var ErrNoAccountClient = errors.New("no client for the account")

// accountError is the refusal of Other, marked ErrNoAccountClient.
type accountError struct{ err error }

func (e accountError) Error() string   { return e.err.Error() }
func (e accountError) Unwrap() []error { return []error{ErrNoAccountClient, e.err} }

// Router is the one account router: it sends each IAM call about a resource to the credentials that act in
// the resource's account. IAM answers GetRole by name, and GetOpenIDConnectProvider, from the account of the
// credentials, so a role of another account is read and written with that account's credentials or not at all.
// C is the client type of its user (setup's or inspect's narrow IAM interface). Safe for concurrent use; each
// account is resolved once per run.
type Router[C any] struct {
	home C
	// homeAccount is the account home acts in (the caller's); asked only when an answer did not tell it.
	homeAccount func(context.Context) (string, error)
	// other returns the client of another account than home's, or the error saying what to pass for one.
	other func(ctx context.Context, account string) (C, error)

	// resolving serialises the first resolution of an account, so concurrent readers share one answer.
	resolving sync.Mutex
	mu        sync.Mutex
	routes    map[string]route[C]
}

// route is the resolved client of an account: home when it is home's own.
type route[C any] struct {
	client C
	home   bool
	err    error
}

// NewRouter returns the router of one run. homeAccount tells the account home acts in; other gives the
// client of any other account (nil: every account is read with home).
func NewRouter[C any](home C, homeAccount func(context.Context) (string, error), other func(ctx context.Context, account string) (C, error)) *Router[C] {
	return &Router[C]{home: home, homeAccount: homeAccount, other: other}
}

// Home is the caller's client.
func (r *Router[C]) Home() C { return r.home }

// Routes reports whether the router can send a call to another account than home's (false: home for all).
func (r *Router[C]) Routes() bool { return r != nil && r.other != nil && r.homeAccount != nil }

// For returns the client acting in account: home's when the caller is in it, else other's. The error wraps
// ErrNoAccountClient when no credentials act there.
func (r *Router[C]) For(ctx context.Context, account string) (C, error) {
	c := r.resolve(ctx, account)
	return c.client, c.err
}

// Route is For, and whether the client is home's.
func (r *Router[C]) Route(ctx context.Context, account string) (client C, home bool, err error) {
	c := r.resolve(ctx, account)
	return c.client, c.home, c.err
}

// Known returns the client of an account already resolved or learnt (false: not known yet).
func (r *Router[C]) Known(account string) (client C, home bool, err error, ok bool) {
	if !r.Routes() {
		return r.home, true, nil, true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.routes[account]
	return c.client, c.home, c.err, ok
}

// LearnHome records the account home acts in, as an answer showed it (GetRole returns the ARN in the
// credentials' account): the common same-account case then costs no sts:GetCallerIdentity.
func (r *Router[C]) LearnHome(account string) {
	if !r.Routes() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.routes[account]; !ok {
		r.set(account, route[C]{client: r.home, home: true})
	}
}

func (r *Router[C]) resolve(ctx context.Context, account string) route[C] {
	if !r.Routes() {
		return route[C]{client: r.home, home: true}
	}
	r.resolving.Lock()
	defer r.resolving.Unlock()
	r.mu.Lock()
	c, ok := r.routes[account]
	r.mu.Unlock()
	if ok {
		return c
	}
	home, err := r.homeAccount(ctx)
	switch {
	case err != nil:
		return route[C]{err: accountError{err}} // not cached: the caller's identity may answer on a later call
	case home == account:
		c = route[C]{client: r.home, home: true}
	default:
		client, err := r.other(ctx, account)
		if err != nil {
			c = route[C]{err: accountError{err}}
		} else {
			c = route[C]{client: client}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.set(account, c)
	return c
}

// set records a route; r.mu is held.
func (r *Router[C]) set(account string, c route[C]) {
	if r.routes == nil {
		r.routes = map[string]route[C]{}
	}
	r.routes[account] = c
}
