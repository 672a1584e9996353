// Package rolelock serialises kubectl irsa's writes to one IAM role among every kubectl irsa run against the same
// cluster. IAM has no conditional write, so two runs that read, merge and write one trust document at once lose
// one of the changes; a coordination.k8s.io Lease per role, taken with client-go's leader election, makes the
// read-merge-write of each run exclusive. Runs against other clusters do not see the lease: the write side
// therefore also reads its write back and merges again when another writer replaced it.
package rolelock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// DefaultNamespace holds the leases: one namespace every run against the cluster agrees on.
const DefaultNamespace = "kube-system"

// Timing of the lease. A run that dies holding it blocks others for at most LeaseDuration.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 500 * time.Millisecond
	DefaultWait          = 2 * time.Minute
)

// Locker takes per-role leases.
type Locker struct {
	Kube kubernetes.Interface
	// Namespace holds the leases (DefaultNamespace when empty).
	Namespace string
	// Identity names this run in the lease's holderIdentity (host, pid and a random suffix when empty).
	Identity string
	// Wait bounds how long to wait for a lease another run holds (DefaultWait when zero).
	Wait time.Duration
	// LeaseDuration, RenewDeadline and RetryPeriod tune the lease (the defaults when zero).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Notify, when set, is told (once per With) who holds the lease when another run does: that this run waits
	// for it, or takes it over because its holder stopped renewing it.
	Notify func(msg string)
	// Now is the clock that judges a lease expired (nil: time.Now).
	Now func() time.Time
}

// HeldError means the lease stayed with another run for the whole wait.
type HeldError struct {
	Role, Holder, Lease string
	Waited              time.Duration
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("role %s is being changed by another kubectl irsa run (%s holds lease %s) and was not released within %s", e.Role, e.Holder, e.Lease, e.Waited)
}

// AccessError means the lease could not be read or written at all (RBAC, unreachable API server).
type AccessError struct {
	Lease string
	Err   error
}

func (e *AccessError) Error() string {
	return fmt.Sprintf("cannot take lease %s: %v", e.Lease, e.Err)
}

func (e *AccessError) Unwrap() error { return e.Err }

// ErrLost means the lease was lost (not renewed in time) while fn ran; fn's context was cancelled.
var ErrLost = errors.New("lost the role's lease while writing; re-run to verify the result")

// LeaseName is the lease guarding a role: a hash of its ARN, so every path and account maps to a valid name.
func LeaseName(roleARN string) string {
	sum := sha256.Sum256([]byte(roleARN))
	return "kubectl-irsa-role-" + hex.EncodeToString(sum[:10])
}

// With runs fn while holding the lease of roleARN, waiting for another run to release it first. fn's context is
// cancelled if the lease is lost. The lease is released (not deleted) when fn returns.
func (l *Locker) With(ctx context.Context, roleARN string, fn func(context.Context) error) error {
	ns, name := l.namespace(), LeaseName(roleARN)
	leases := l.Kube.CoordinationV1().Leases(ns)
	// A first read turns RBAC and connection errors into one clear error instead of a silent wait.
	cur, err := leases.Get(ctx, name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return &AccessError{Lease: ns + "/" + name, Err: err}
	}
	if err == nil {
		l.tellHolder(cur, roleARN, ns+"/"+name)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: name, Namespace: ns},
		Client:     l.Kube.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: l.identity()},
		Labels:     map[string]string{"app.kubernetes.io/managed-by": "kubectl-irsa"},
	}
	// Leader election logs through the context's logger: keep it quiet, the caller reports. Its context is not
	// ctx: once fn runs, a cancelled ctx (an interrupted run) reaches fn, which rolls back, and the lease is held
	// until fn returns; before that, a cancelled ctx stops the wait.
	runCtx, cancel := context.WithCancel(klog.NewContext(context.WithoutCancel(ctx), logr.Discard()))
	defer cancel()

	var (
		mu       sync.Mutex
		started  bool
		timedOut bool
		fnErr    error
		fnDone   = make(chan struct{})
	)
	wait := l.duration(l.Wait, DefaultWait)
	timer := time.AfterFunc(wait, func() {
		mu.Lock()
		defer mu.Unlock()
		if !started {
			timedOut = true
			cancel()
		}
	})
	defer timer.Stop()
	stopWatch := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !started {
			cancel()
		}
	})
	defer stopWatch()

	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   l.duration(l.LeaseDuration, DefaultLeaseDuration),
		RenewDeadline:   l.duration(l.RenewDeadline, DefaultRenewDeadline),
		RetryPeriod:     l.duration(l.RetryPeriod, DefaultRetryPeriod),
		ReleaseOnCancel: true,
		Name:            name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leadCtx context.Context) {
				mu.Lock()
				if timedOut {
					mu.Unlock()
					return
				}
				started = true
				mu.Unlock()
				defer close(fnDone)
				fnCtx, fnCancel := context.WithCancel(leadCtx)
				stop := context.AfterFunc(ctx, fnCancel)
				fnErr = fn(fnCtx)
				stop()
				fnCancel()
				if leadCtx.Err() != nil && runCtx.Err() == nil {
					fnErr = errors.Join(ErrLost, fnErr)
				}
				cancel()
			},
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return fmt.Errorf("lease %s/%s: %w", ns, name, err)
	}
	elector.Run(runCtx)

	mu.Lock()
	ran := started
	mu.Unlock()
	if !ran {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &HeldError{Role: roleARN, Holder: elector.GetLeader(), Lease: ns + "/" + name, Waited: wait}
	}
	<-fnDone
	return fnErr
}

// Delete deletes the lease of roleARN once its role is deleted, unless another run holds it now (its holder
// still renewing it): that run deletes it in turn, or the lease stays harmless. A lease that is gone already is
// fine.
func (l *Locker) Delete(ctx context.Context, roleARN string) error {
	ns, name := l.namespace(), LeaseName(roleARN)
	leases := l.Kube.CoordinationV1().Leases(ns)
	cur, err := leases.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("lease %s/%s: %w", ns, name, err)
	}
	if holder := cur.Spec.HolderIdentity; holder != nil && *holder != "" && !l.expired(cur) {
		return nil
	}
	rv := cur.ResourceVersion
	err = leases.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete lease %s/%s: %w", ns, name, err)
	}
	return nil
}

// expired reports whether the lease's holder stopped renewing it for longer than its duration.
func (l *Locker) expired(lease *coordinationv1.Lease) bool {
	renewed, duration := l.renewal(lease)
	return l.now().After(renewed.Add(duration))
}

// renewal is when the lease was last renewed (or acquired) and for how long.
func (l *Locker) renewal(lease *coordinationv1.Lease) (time.Time, time.Duration) {
	var renewed time.Time
	if lease.Spec.RenewTime != nil {
		renewed = lease.Spec.RenewTime.Time
	} else if lease.Spec.AcquireTime != nil {
		renewed = lease.Spec.AcquireTime.Time
	}
	duration := l.duration(l.LeaseDuration, DefaultLeaseDuration)
	if lease.Spec.LeaseDurationSeconds != nil {
		duration = time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second
	}
	return renewed, duration
}

func (l *Locker) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// tellHolder tells Notify who holds the lease: another run, still renewing it (this run waits), or a run that
// stopped renewing it (gone: the lease is taken over once expired).
func (l *Locker) tellHolder(lease *coordinationv1.Lease, roleARN, name string) {
	if l.Notify == nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		return
	}
	holder := *lease.Spec.HolderIdentity
	renewed, duration := l.renewal(lease)
	ago := l.now().Sub(renewed).Round(time.Second)
	if l.expired(lease) {
		l.Notify(fmt.Sprintf("taking over lease %s of role %s: its holder %s stopped renewing it %s ago (a run that was killed)", name, roleARN, holder, ago))
		return
	}
	l.Notify(fmt.Sprintf("waiting for lease %s of role %s: held by %s (another kubectl irsa run), renewed %s ago; taken over if not renewed for %s", name, roleARN, holder, ago, duration))
}

func (l *Locker) namespace() string {
	if l.Namespace != "" {
		return l.Namespace
	}
	return DefaultNamespace
}

func (l *Locker) identity() string {
	if l.Identity != "" {
		return l.Identity
	}
	host, _ := os.Hostname()
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + rand.String(5)
}

func (l *Locker) duration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
