package rolelock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// fakeS3 is one bucket honouring S3's conditional writes: PutObject If-None-Match: * fails with 412 when the
// key exists, PutObject and DeleteObject If-Match fail with 412 on another ETag (404 NoSuchKey when absent).
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string]fakeObject
	n       int
	// conflicts is how many conditional writes still answer 409 ConditionalRequestConflict.
	conflicts int
	// fail, when set, answers every call.
	fail error
	// beforeDelete runs (unlocked) before each DeleteObject is checked.
	beforeDelete func()
	puts         int
}

type fakeObject struct {
	body     []byte
	etag     string
	modified time.Time
}

func newFakeS3() *fakeS3 { return &fakeS3{objects: map[string]fakeObject{}} }

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code} }

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	body, _ := io.ReadAll(in.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	if f.fail != nil {
		return nil, f.fail
	}
	if f.conflicts > 0 && (in.IfMatch != nil || in.IfNoneMatch != nil) {
		f.conflicts--
		return nil, apiErr("ConditionalRequestConflict")
	}
	key := aws.ToString(in.Key)
	cur, exists := f.objects[key]
	switch {
	case aws.ToString(in.IfNoneMatch) == "*" && exists:
		return nil, apiErr("PreconditionFailed")
	case in.IfMatch != nil && !exists:
		return nil, &types.NoSuchKey{}
	case in.IfMatch != nil && *in.IfMatch != cur.etag:
		return nil, apiErr("PreconditionFailed")
	}
	f.n++
	etag := fmt.Sprintf(`"etag-%d"`, f.n)
	f.objects[key] = fakeObject{body: body, etag: etag, modified: time.Now()}
	return &s3.PutObjectOutput{ETag: aws.String(etag)}, nil
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	cur, ok := f.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(cur.body)), ETag: aws.String(cur.etag), LastModified: aws.Time(cur.modified)}, nil
}

func (f *fakeS3) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	if f.beforeDelete != nil {
		f.beforeDelete()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	key := aws.ToString(in.Key)
	cur, ok := f.objects[key]
	switch {
	case !ok:
		return nil, &types.NoSuchKey{}
	case in.IfMatch != nil && *in.IfMatch != cur.etag:
		return nil, apiErr("PreconditionFailed")
	}
	delete(f.objects, key)
	return &s3.DeleteObjectOutput{}, nil
}

// set writes a holder's record directly (another run), now.
func (f *fakeS3) set(key string, h Holder) { f.setAt(key, h, time.Now()) }

// setAt writes a holder's record as S3 last changed it at modified (a run that stopped renewing then).
func (f *fakeS3) setAt(key string, h Holder, modified time.Time) {
	body, _ := json.Marshal(h)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	f.objects[key] = fakeObject{body: body, etag: fmt.Sprintf(`"etag-%d"`, f.n), modified: modified}
}

func (f *fakeS3) has(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.objects[key]
	return ok
}

func newS3Lock(f *fakeS3, name string) *S3 {
	return &S3{Client: f, Bucket: "irsa-locks", Prefix: "team/", Self: Holder{ID: name, Host: "host-" + name, PID: 42, Cluster: "ctx-" + name, Command: "kubectl irsa link"},
		TTL: 300 * time.Millisecond, Wait: 5 * time.Second, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}
}

func TestS3Key(t *testing.T) {
	l := &S3{Bucket: "irsa-locks", Prefix: "team/"}
	for arn, want := range map[string]string{
		role:                                 "s3://irsa-locks/team/123456789012/app.json",
		"arn:aws:iam::123456789012:role/app": "s3://irsa-locks/team/123456789012/app.json",
		"arn:aws-cn:iam::210987654321:role/a/b/c": "s3://irsa-locks/team/210987654321/c.json",
		"not-an-arn": "s3://irsa-locks/team/" + LeaseName("not-an-arn") + ".json",
	} {
		if got := l.URL(arn); got != want {
			t.Errorf("URL(%s) = %s, want %s", arn, got, want)
		}
	}
}

func TestParseS3URL(t *testing.T) {
	for _, tc := range []struct {
		in  string
		loc Location
		err string
	}{
		{"s3://irsa-locks/team/a", Location{"irsa-locks", "team/a/", ""}, ""},
		{"s3://irsa-locks/team/", Location{"irsa-locks", "team/", ""}, ""},
		{"s3://irsa-locks", Location{"irsa-locks", "", ""}, ""},
		{"s3://irsa-locks/x?region=eu-west-1", Location{"irsa-locks", "x/", "eu-west-1"}, ""},
		{"s3://b/x", Location{}, "3 to 63"},
		{"s3://Bad_Bucket/x", Location{}, "lowercase"},
		{"s3:///x", Location{}, "not s3://"},
		{"https://irsa-locks/x", Location{}, "not s3://"},
		{"s3://irsa-locks/x?acl=public", Location{}, "only query parameter"},
	} {
		loc, err := ParseS3URL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || loc != tc.loc {
			t.Errorf("%s = %+v %v", tc.in, loc, err)
		}
	}
}

// TestS3MutualExclusion: runs of separate lockers on one role never hold the lock at once, and every run gets it.
func TestS3MutualExclusion(t *testing.T) {
	f := newFakeS3()
	f.conflicts = 5
	var inside, maxInside, ran atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := newS3Lock(f, fmt.Sprintf("run%d", i))
			err := l.With(context.Background(), role, func(ctx context.Context) error {
				n := inside.Add(1)
				if n > maxInside.Load() {
					maxInside.Store(n)
				}
				time.Sleep(5 * time.Millisecond)
				inside.Add(-1)
				ran.Add(1)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if maxInside.Load() != 1 || ran.Load() != 8 {
		t.Errorf("max holders at once %d (want 1), runs %d (want 8)", maxInside.Load(), ran.Load())
	}
	if f.has("team/123456789012/app.json") {
		t.Error("the lock object was not released")
	}
}

// TestS3TellsHolderOnceAndOnChange: a waiting run names the holder once, and again when another run holds it.
func TestS3TellsHolderOnceAndOnChange(t *testing.T) {
	f := newFakeS3()
	key := "team/123456789012/app.json"
	far := time.Now().Add(time.Hour)
	f.set(key, Holder{ID: "a", Host: "host-a", Cluster: "blue", Command: "kubectl irsa link x", Since: time.Now(), Expiry: far})
	l := newS3Lock(f, "me")
	var mu sync.Mutex
	var msgs []string
	l.Notify = func(m string) { mu.Lock(); msgs = append(msgs, m); mu.Unlock() }
	go func() {
		time.Sleep(50 * time.Millisecond)
		f.set(key, Holder{ID: "b", Host: "host-b", Cluster: "green", Since: time.Now(), Expiry: far})
		time.Sleep(50 * time.Millisecond)
		f.mu.Lock()
		delete(f.objects, key)
		f.mu.Unlock()
	}()
	if err := l.With(context.Background(), role, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(msgs) != 2 || !strings.Contains(msgs[0], "another kubectl irsa run: a (host host-a, cluster blue, \"kubectl irsa link x\")") || !strings.Contains(msgs[1], "another kubectl irsa run: b (host host-b, cluster green)") {
		t.Errorf("messages:\n%s", strings.Join(msgs, "\n"))
	}
}

// TestS3TakesOverExpired: a lock whose holder died (expiry passed) is taken over with If-Match, naming the holder.
func TestS3TakesOverExpired(t *testing.T) {
	f := newFakeS3()
	key := "team/123456789012/app.json"
	f.setAt(key, Holder{ID: "dead-1", Host: "gone-host", PID: 7, Since: time.Now().Add(-time.Hour), Expiry: time.Now().Add(-time.Minute)}, time.Now().Add(-time.Minute))
	l := newS3Lock(f, "me")
	var msgs []string
	l.Notify = func(m string) { msgs = append(msgs, m) }
	held := false
	err := l.With(context.Background(), role, func(context.Context) error {
		st, err := l.Status(context.Background(), role)
		held = err == nil && st.Holder.ID == "me"
		return nil
	})
	if err != nil || !held {
		t.Fatalf("With: %v, held by this run: %v", err, held)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "taking over") || !strings.Contains(msgs[0], "dead-1 (host gone-host, pid 7)") {
		t.Errorf("messages: %q", msgs)
	}
	if f.has(key) {
		t.Error("not released")
	}
}

// TestS3ExpiryOnS3sClock: whether a holder stopped renewing is judged by when S3 last changed its object, not by
// the expiry its writer's clock recorded: a live holder whose clock is an hour behind is waited for, a dead one
// whose clock was an hour ahead is taken over, and a record's own TTL counts (bounded).
func TestS3ExpiryOnS3sClock(t *testing.T) {
	key := "team/123456789012/app.json"
	now := time.Now()
	for _, tc := range []struct {
		name     string
		h        Holder
		modified time.Time
		takeOver bool
	}{
		{"clock behind, renewing", Holder{ID: "behind", Since: now.Add(-2 * time.Hour), Expiry: now.Add(-time.Hour)}, now, false},
		{"clock ahead, dead", Holder{ID: "ahead", Since: now, Expiry: now.Add(time.Hour)}, now.Add(-time.Minute), true},
		{"own TTL of 1 s, dead", Holder{ID: "short", Since: now, Expiry: now.Add(time.Hour), TTLSeconds: 1}, now.Add(-3 * time.Second), true},
		{"own TTL of 1 h, bounded", Holder{ID: "long", Since: now, Expiry: now.Add(time.Hour), TTLSeconds: 3600}, now.Add(-11 * time.Minute), true},
		{"own TTL of 5 min, renewing", Holder{ID: "slow", Since: now, Expiry: now.Add(-time.Hour), TTLSeconds: 300}, now.Add(-time.Minute), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeS3()
			f.setAt(key, tc.h, tc.modified)
			l := newS3Lock(f, "me")
			l.TTL, l.Wait = 30*time.Second, 300*time.Millisecond
			ran := false
			err := l.With(context.Background(), role, func(context.Context) error { ran = true; return nil })
			if ran != tc.takeOver {
				t.Fatalf("took over: %v, want %v (err %v)", ran, tc.takeOver, err)
			}
			st, serr := l.Status(context.Background(), role)
			if !tc.takeOver && (serr != nil || st.Expired(time.Now()) || st.Holder.ID != tc.h.ID) {
				t.Errorf("status of a live holder: %+v (%v): want it held, not expired", st, serr)
			}
		})
	}
}

// TestS3WaitTimesOut: a live holder for the whole wait gives a HeldError naming it; fn never runs.
func TestS3WaitTimesOut(t *testing.T) {
	f := newFakeS3()
	f.set("team/123456789012/app.json", Holder{ID: "other", Host: "h", Since: time.Now(), Expiry: time.Now().Add(time.Hour)})
	l := newS3Lock(f, "me")
	l.Wait = 50 * time.Millisecond
	err := l.With(context.Background(), role, func(context.Context) error { t.Error("fn ran"); return nil })
	var held *HeldError
	if !errors.As(err, &held) || !strings.Contains(err.Error(), "other (host h)") || !strings.Contains(err.Error(), "s3://irsa-locks/team/123456789012/app.json") {
		t.Errorf("error: %v", err)
	}
}

// TestS3CancelWhileWaiting: a cancelled context stops the wait at once.
func TestS3CancelWhileWaiting(t *testing.T) {
	f := newFakeS3()
	f.set("team/123456789012/app.json", Holder{ID: "other", Since: time.Now(), Expiry: time.Now().Add(time.Hour)})
	l := newS3Lock(f, "me")
	l.MaxBackoff = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := l.With(ctx, role, func(context.Context) error { t.Error("fn ran"); return nil })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("error %v after %s", err, time.Since(start))
	}
}

// TestS3DeniedTakesNothing: AccessDenied (or NoSuchBucket) on the first write is an AccessError, fn never runs.
func TestS3DeniedTakesNothing(t *testing.T) {
	for _, code := range []string{"AccessDenied", "NoSuchBucket"} {
		f := newFakeS3()
		f.fail = apiErr(code)
		l := newS3Lock(f, "me")
		err := l.With(context.Background(), role, func(context.Context) error { t.Error("fn ran"); return nil })
		var access *AccessError
		if !errors.As(err, &access) || S3Code(err) != code || f.puts != 1 {
			t.Errorf("%s: error %v, puts %d", code, err, f.puts)
		}
	}
}

// TestS3RenewsAndLosesWhenBroken: the holder renews (the ETag changes) while fn runs; once the object is broken
// by another run, fn's context is cancelled and With reports ErrLost.
func TestS3RenewsAndLosesWhenBroken(t *testing.T) {
	f := newFakeS3()
	l := newS3Lock(f, "me")
	l.TTL = 60 * time.Millisecond
	other := newS3Lock(f, "breaker")
	err := l.With(context.Background(), role, func(ctx context.Context) error {
		first, _ := l.Status(ctx, role)
		time.Sleep(50 * time.Millisecond)
		second, _ := l.Status(ctx, role)
		if first.version == second.version || !second.Holder.Since.Equal(first.Holder.Since) || !second.Holder.Expiry.After(first.Holder.Expiry) {
			t.Errorf("not renewed: %+v then %+v", first, second)
		}
		if st, err := other.Break(context.Background(), role); err != nil || st.Holder.ID != "me" {
			t.Errorf("break: %+v %v", st, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
			return errors.New("fn's context was not cancelled")
		}
	})
	if !errors.Is(err, ErrLost) {
		t.Errorf("error %v, want ErrLost", err)
	}
}

// TestS3BreakKeepsNewerLock: Break deletes only the object Status read; one renewed in between stays.
func TestS3BreakKeepsNewerLock(t *testing.T) {
	f := newFakeS3()
	key := "team/123456789012/app.json"
	f.set(key, Holder{ID: "old", Since: time.Now(), Expiry: time.Now().Add(time.Hour)})
	f.beforeDelete = func() { f.set(key, Holder{ID: "new", Since: time.Now(), Expiry: time.Now().Add(time.Hour)}) }
	l := newS3Lock(f, "me")
	st, err := l.Break(context.Background(), role)
	if !errors.Is(err, ErrChanged) || st.Holder.ID != "old" || !f.has(key) {
		t.Errorf("break: %+v %v, object kept %v", st, err, f.has(key))
	}
	f.beforeDelete = nil
	if st, err := l.Break(context.Background(), role); err != nil || st.Holder.ID != "new" || f.has(key) {
		t.Errorf("second break: %+v %v", st, err)
	}
	if st, err := l.Break(context.Background(), role); err != nil || st.Held {
		t.Errorf("break of a free lock: %+v %v", st, err)
	}
}

// TestS3OwnRetriedCreate: a create the SDK retried after S3 applied it (412 on our own record) is held.
func TestS3OwnRetriedCreate(t *testing.T) {
	f := newFakeS3()
	l := newS3Lock(f, "me")
	f.set("team/123456789012/app.json", l.record(time.Now(), time.Now()))
	ran := false
	if err := l.With(context.Background(), role, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("With: %v, ran %v", err, ran)
	}
}

// TestS3ForeignObject: an object that is not a lock record is held by an unnamed run until TTL after its change.
func TestS3ForeignObject(t *testing.T) {
	f := newFakeS3()
	f.mu.Lock()
	f.objects["team/123456789012/app.json"] = fakeObject{body: []byte("garbage"), etag: `"x"`, modified: time.Now().Add(-time.Hour)}
	f.mu.Unlock()
	l := newS3Lock(f, "me")
	var msgs []string
	l.Notify = func(m string) { msgs = append(msgs, m) }
	if err := l.With(context.Background(), role, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "taking over") || !strings.Contains(msgs[0], "not kubectl irsa's") {
		t.Errorf("messages %q", msgs)
	}
}

// TestS3EndlessConflictsEndTheWait: S3 answering 409 for the whole wait gives a HeldError, not a loop.
func TestS3EndlessConflictsEndTheWait(t *testing.T) {
	f := newFakeS3()
	f.conflicts = 1 << 30
	l := newS3Lock(f, "me")
	l.Wait = 50 * time.Millisecond
	var held *HeldError
	if err := l.With(context.Background(), role, func(context.Context) error { t.Error("fn ran"); return nil }); !errors.As(err, &held) || !strings.Contains(err.Error(), "409") {
		t.Errorf("error %v", err)
	}
}

// TestS3ExpiryUsesS3sDate: through the SDK, the Date of S3's answer is S3's now: an object S3 changed 10 s ago
// by its clock is live, though this machine's clock (an hour ahead of S3's) says it lapsed long ago.
func TestS3ExpiryUsesS3sDate(t *testing.T) {
	s3Now := time.Now().Add(-time.Hour).Truncate(time.Second)
	body, _ := json.Marshal(Holder{ID: "other", Since: s3Now, Expiry: s3Now.Add(20 * time.Second)})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", s3Now.UTC().Format(http.TimeFormat))
		w.Header().Set("Last-Modified", s3Now.Add(-10*time.Second).UTC().Format(http.TimeFormat))
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), RetryMaxAttempts: 1})
	l := &S3{Client: client, Bucket: "irsa-locks", Prefix: "team/"}
	st, err := l.Status(context.Background(), role)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Held || st.Expired(time.Now()) {
		t.Errorf("status %+v: want held and live on S3's clock", st)
	}
	if left := time.Until(st.Holder.Expiry); left < 15*time.Second || left > 25*time.Second {
		t.Errorf("lapses in %s on this run's clock, want about 21 s (30 s TTL + 1 s, changed 10 s ago)", left)
	}
}
