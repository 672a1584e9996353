// Package setup is the write side of kubectl irsa: link, unlink, annotate, role create and provider create.
// Every write command has the same shape: Plan reads live state and computes every change as ordered steps
// (package steps) without writing (the plan's Result lists their actions, all planned or unchanged); Apply hands
// the steps to the one executor, which writes them in order under the role's lock and, when a step fails or the
// run is interrupted, rolls back what the run wrote. A dry run is a plan that is never applied.
//
// Requests come already parsed and validated (ARNs as iamref values, permissions read once): the package
// trusts them, and its error messages name no CLI flag.
package setup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
)

// Plan is a computed change: every read done, nothing written.
type Plan interface {
	// Result describes the plan: every action planned or unchanged.
	Result() *api.Result
	// Apply writes the plan and returns the result with each action's status; on failure what was written
	// is rolled back and the result says so.
	Apply(ctx context.Context) (*api.Result, error)
}

// Setup holds the clients the write commands use. Fields a command does not need may be left nil
// (annotate needs only Kube).
type Setup struct {
	Kube kubernetes.Interface
	IAM  IAMAPI
	// Accounts routes a role's reads and writes to its account's credentials (nil: IAM for every account).
	// See forAccount.
	Accounts *state.Router[IAMAPI]
	// Caller returns who the AWS credentials belong to (called lazily, at most once per plan).
	Caller func(context.Context) (awsapi.Caller, error)
	// Issuer is the cluster's OIDC issuer URL.
	Issuer string
	// Thumbprint computes the provider thumbprint; nil leaves it out.
	Thumbprint Thumbprinter
	// Lock serialises the writes to one role among the runs against the cluster (rolelock.Locker.With); nil
	// writes without a lock (the read-back and re-merge still apply).
	Lock LockFunc
	// DeleteLock deletes a deleted role's lock (rolelock.Locker.Delete); nil: nothing to delete.
	DeleteLock func(ctx context.Context, roleARN string) error
	// Now is the clock for restart annotations (nil: time.Now).
	Now func() time.Time
	// Exec applies every plan's steps (nil: a new executor per plan). The caller keeps it to tell, when a run is
	// aborted, what is left (steps.Executor.Left).
	Exec *steps.Executor
	// Quotas caches the accounts' quotas for the run (nil: read again for every plan).
	Quotas *state.Quotas
	// ReadBackDelay is the wait before read-back attempt n after an IAM write (nil: 50 ms doubling, at most 1 s).
	ReadBackDelay func(attempt int) time.Duration
}

func (s *Setup) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// deletedRole deletes the lock of a role this run deleted; a failure is a note (the lease is harmless).
func (s *Setup) deletedRole(ctx context.Context, res *api.Result, roleARN string) {
	if s.DeleteLock == nil {
		return
	}
	if err := s.DeleteLock(ctx, roleARN); err != nil {
		res.Hints = append(res.Hints, fmt.Sprintf("role %s is deleted but its lease could not be (%v): delete it by hand", roleARN, err))
	}
}

func (s *Setup) caller(ctx context.Context) (awsapi.Caller, error) {
	if s.Caller == nil {
		return awsapi.Caller{}, errors.New("no AWS credentials configured")
	}
	return s.Caller(ctx)
}

// Errors the plugin turns into hints (the flags to use); the library never names a flag.
var (
	// ErrServiceAccountMissing: the ServiceAccount does not exist and creating it was not asked.
	ErrServiceAccountMissing = errors.New("serviceaccount not found")
	// ErrNamespaceMissing: the namespace does not exist.
	ErrNamespaceMissing = errors.New("namespace not found")
	// ErrAnnotatedElsewhere: the ServiceAccount points at another role and overwriting was not asked.
	ErrAnnotatedElsewhere = errors.New("serviceaccount is already annotated with another role")
	// ErrRoleMissing: an existing role was asked for by ARN and does not exist (or exists at another path).
	ErrRoleMissing = errors.New("role does not exist")
	// ErrTargetRoleMissing: the Pod Identity target role (role chaining) does not exist.
	ErrTargetRoleMissing = errors.New("target role does not exist")
	// ErrNoProvider: the OIDC provider is missing and creating it was not allowed.
	ErrNoProvider = errors.New("no IAM OIDC provider")
	// ErrManagedPolicyMissing: a managed policy to attach does not exist.
	ErrManagedPolicyMissing = errors.New("managed policy does not exist")
	// ErrRoleNotManaged, ErrRoleInUse: a role deletion was asked that is refused.
	ErrRoleNotManaged = errors.New("role was not created by kubectl irsa")
	ErrRoleInUse      = errors.New("role still trusts other principals")
)

// kindError is an error of one of the kinds above with its own message (the kind's text is not repeated).
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
