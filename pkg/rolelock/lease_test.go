package rolelock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const role = "arn:aws:iam::123456789012:role/team/app"

// newKube is a fake clientset whose leases honour resourceVersion as the API server does (the plain fake
// tracker accepts any update, which would let two holders in).
func newKube() *fake.Clientset {
	kube := fake.NewClientset()
	var mu sync.Mutex
	version := 0
	kube.PrependReactor("*", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		gvr := coordinationv1.SchemeGroupVersion.WithResource("leases")
		obj, ok := a.(interface{ GetObject() runtime.Object })
		if !ok {
			return false, nil, nil
		}
		switch a.GetVerb() {
		case "create":
			lease := obj.GetObject().(*coordinationv1.Lease).DeepCopy()
			version++
			lease.ResourceVersion = fmt.Sprint(version)
			if err := kube.Tracker().Create(gvr, lease, lease.Namespace); err != nil {
				return true, nil, err
			}
			return true, lease, nil
		case "update":
			lease := obj.GetObject().(*coordinationv1.Lease).DeepCopy()
			cur, err := kube.Tracker().Get(gvr, lease.Namespace, lease.Name)
			if err != nil {
				return true, nil, err
			}
			if cur.(*coordinationv1.Lease).ResourceVersion != lease.ResourceVersion {
				return true, nil, apierrors.NewConflict(gvr.GroupResource(), lease.Name, errors.New("resourceVersion changed"))
			}
			version++
			lease.ResourceVersion = fmt.Sprint(version)
			if err := kube.Tracker().Update(gvr, lease, lease.Namespace); err != nil {
				return true, nil, err
			}
			return true, lease, nil
		}
		return false, nil, nil
	})
	return kube
}

func fastLocker(kube *fake.Clientset, id string) *Lease {
	return &Lease{Kube: kube, Identity: id, Wait: 20 * time.Second,
		LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 50 * time.Millisecond}
}

// TestWithIsExclusive runs eight holders at once on one role: at no time may two be inside fn.
func TestWithIsExclusive(t *testing.T) {
	kube := newKube()
	var inside, maxInside, runs atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- fastLocker(kube, fmt.Sprintf("run-%d", i)).With(context.Background(), role, func(context.Context) error {
				n := inside.Add(1)
				for {
					m := maxInside.Load()
					if n <= m || maxInside.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(20 * time.Millisecond)
				inside.Add(-1)
				runs.Add(1)
				return nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if runs.Load() != 8 || maxInside.Load() != 1 {
		t.Fatalf("runs=%d, most inside at once=%d; want 8 and 1", runs.Load(), maxInside.Load())
	}
	lease, err := kube.CoordinationV1().Leases(DefaultNamespace).Get(context.Background(), LeaseName(role), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lease.Labels["app.kubernetes.io/managed-by"] != "kubectl-irsa" {
		t.Errorf("lease labels = %v", lease.Labels)
	}
	if h := lease.Spec.HolderIdentity; h != nil && *h != "" {
		t.Errorf("lease still held by %q after every run returned", *h)
	}
}

// TestWithWaitsForHolder: a lease held (and renewed) by someone else for longer than the wait gives HeldError naming
// the holder, and fn never runs.
func TestWithWaitsForHolder(t *testing.T) {
	kube := fake.NewClientset()
	now := metav1.NewMicroTime(time.Now())
	holder, dur := "pipeline-a", int32(3600)
	_, err := kube.CoordinationV1().Leases(DefaultNamespace).Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LeaseName(role), Namespace: DefaultNamespace},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, AcquireTime: &now, RenewTime: &now},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := fastLocker(kube, "me")
	l.Wait = 300 * time.Millisecond
	ran := false
	err = l.With(context.Background(), role, func(context.Context) error { ran = true; return nil })
	var held *HeldError
	if !errors.As(err, &held) || held.Holder != holder || ran {
		t.Fatalf("err=%v ran=%v; want HeldError by %s and fn not run", err, ran, holder)
	}
}

// TestWithForbidden: RBAC refusing leases is reported at once as an AccessError, not after the whole wait.
func TestWithForbidden(t *testing.T) {
	kube := fake.NewClientset()
	kube.PrependReactor("get", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, "x", errors.New("no RBAC"))
	})
	start := time.Now()
	err := fastLocker(kube, "me").With(context.Background(), role, func(context.Context) error { return nil })
	var access *AccessError
	if !errors.As(err, &access) || !apierrors.IsForbidden(err) || time.Since(start) > 5*time.Second {
		t.Fatalf("err=%v after %s; want an immediate AccessError wrapping Forbidden", err, time.Since(start))
	}
}

// TestWithReturnsFnError: fn's error comes back unchanged and the lease is released for the next run.
func TestWithReturnsFnError(t *testing.T) {
	kube := newKube()
	boom := errors.New("boom")
	if err := fastLocker(kube, "a").With(context.Background(), role, func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err=%v, want boom", err)
	}
	start := time.Now()
	if err := fastLocker(kube, "b").With(context.Background(), role, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("second run waited %s: the first did not release", time.Since(start))
	}
}

func TestLeaseName(t *testing.T) {
	a, b := LeaseName(role), LeaseName("arn:aws:iam::123456789012:role/app")
	if a == b || len(a) > 63 {
		t.Fatalf("names %q %q: want distinct DNS labels", a, b)
	}
}

// createLease makes a lease of role held by holder, last renewed at renewed, for dur seconds.
func createLease(t *testing.T, kube *fake.Clientset, holder string, renewed time.Time, dur int32) {
	t.Helper()
	at := metav1.NewMicroTime(renewed)
	_, err := kube.CoordinationV1().Leases(DefaultNamespace).Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LeaseName(role), Namespace: DefaultNamespace},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, AcquireTime: &at, RenewTime: &at},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStaleLeaseTakenOverNamingHolder: a lease whose holder died (last renewed long ago) is taken over once it
// expires, and the run says whose lease it took.
func TestStaleLeaseTakenOverNamingHolder(t *testing.T) {
	kube := newKube()
	createLease(t, kube, "laptop-4242-dead1", time.Now().Add(-time.Hour), 2)
	var msgs []string
	l := fastLocker(kube, "me")
	l.Notify = func(m string) { msgs = append(msgs, m) }
	ran := false
	if err := l.With(context.Background(), role, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("err=%v ran=%v: the stale lease was not taken over", err, ran)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "taking over") || !strings.Contains(msgs[0], "laptop-4242-dead1") {
		t.Fatalf("messages %q: want one naming the holder taken over", msgs)
	}
}

// TestHolderMessageJudgesExpiryByClock: with a fake clock, a lease renewed "just now" by real time reads as
// still held (waiting, naming the holder) before its duration and as taken over after it.
func TestHolderMessageJudgesExpiryByClock(t *testing.T) {
	renewed := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := metav1.NewMicroTime(renewed)
	holder, dur := "ci-runner-7", int32(15)
	lease := &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, RenewTime: &at}}
	for _, tc := range []struct {
		after time.Duration
		want  string
	}{{5 * time.Second, "waiting for lease"}, {16 * time.Second, "taking over lease"}} {
		var got string
		l := &Lease{Now: func() time.Time { return renewed.Add(tc.after) }, Notify: func(m string) { got = m }}
		l.tellHolder(lease, role, "kube-system/x")
		if !strings.HasPrefix(got, tc.want) || !strings.Contains(got, holder) {
			t.Errorf("after %s: %q, want %q naming %s", tc.after, got, tc.want, holder)
		}
	}
}

// TestDeleteLease: a released lease is deleted with its role; one another run holds stays.
func TestDeleteLease(t *testing.T) {
	kube := newKube()
	if err := fastLocker(kube, "a").With(context.Background(), role, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := fastLocker(kube, "a").Delete(context.Background(), role); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoordinationV1().Leases(DefaultNamespace).Get(context.Background(), LeaseName(role), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("released lease not deleted: %v", err)
	}
	if err := fastLocker(kube, "a").Delete(context.Background(), role); err != nil {
		t.Fatalf("deleting a lease that is gone: %v", err)
	}
	createLease(t, kube, "other-run", time.Now(), 3600)
	if err := fastLocker(kube, "a").Delete(context.Background(), role); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoordinationV1().Leases(DefaultNamespace).Get(context.Background(), LeaseName(role), metav1.GetOptions{}); err != nil {
		t.Fatalf("a lease another run holds was deleted: %v", err)
	}
}

// TestLeaseStatusAndBreak: Status names the holder while a run holds the lease, not after; Break deletes a held
// lease only at the resourceVersion it read.
func TestLeaseStatusAndBreak(t *testing.T) {
	kube := newKube()
	l := fastLocker(kube, "holder-1")
	err := l.With(context.Background(), role, func(ctx context.Context) error {
		st, err := l.Status(ctx, role)
		if err != nil || !st.Held || st.Holder.ID != "holder-1" || st.Backend != BackendKubernetes || !st.Holder.Expiry.After(time.Now()) {
			t.Errorf("status while held: %+v %v", st, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := l.Status(context.Background(), role); err != nil || st.Held {
		t.Errorf("status after release: %+v %v", st, err)
	}
	if st, err := l.Break(context.Background(), role); err != nil || st.Held {
		t.Errorf("break of a free lease: %+v %v", st, err)
	}

	holder, dur := "dead-run", int32(15)
	past := metav1.NewMicroTime(time.Now().Add(-time.Hour))
	leases := kube.CoordinationV1().Leases(DefaultNamespace)
	cur, err := leases.Get(context.Background(), LeaseName(role), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec = coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, AcquireTime: &past, RenewTime: &past}
	if _, err := leases.Update(context.Background(), cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := l.Break(context.Background(), role)
	if err != nil || st.Holder.ID != holder || !st.Expired(time.Now()) {
		t.Errorf("break: %+v %v", st, err)
	}
	if _, err := leases.Get(context.Background(), LeaseName(role), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("lease not deleted: %v", err)
	}
}
