package rolelock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// S3API is the part of S3 the S3 lock uses: conditional PutObject and DeleteObject, and GetObject.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// BackendS3 names the S3 backend.
const BackendS3 = "s3"

// Timing of the S3 lock. A run that dies holding it blocks others for at most DefaultS3TTL (or the TTL its
// record declares, at most maxRecordTTL).
const (
	DefaultS3TTL      = 30 * time.Second
	maxRecordTTL      = 10 * time.Minute
	defaultMinBackoff = 200 * time.Millisecond
	defaultMaxBackoff = 2 * time.Second
)

// S3 is the S3 backend: one object per role under Bucket/Prefix, whose body records its holder. It is taken
// with PutObject If-None-Match: * (only when absent), renewed and taken over once expired with PutObject
// If-Match on the ETag read, and released with DeleteObject If-Match; S3 answers 412 PreconditionFailed when
// the object changed, and may answer 409 ConditionalRequestConflict to concurrent conditional writes (retried).
// Every run against any cluster that uses the same bucket and prefix sees the lock.
//
// Whether a holder stopped renewing is judged on S3's clock alone (the object's Last-Modified against the Date
// of S3's answer), never on the clock of the machine that wrote the record: a holder whose clock runs behind is
// not taken over while it renews, and one whose clock runs ahead does not block the others beyond its TTL.
type S3 struct {
	Client S3API
	Bucket string
	// Prefix is prepended to each role's key ("locks/" gives locks/ACCOUNT/ROLE.json).
	Prefix string
	// Self is this run as recorded in the objects it writes (Since and Expiry are set per lock); Self("", "")
	// when its ID is empty.
	Self Holder
	// TTL is how long a lock lives without renewal (DefaultS3TTL when zero); it is renewed every TTL/3.
	TTL time.Duration
	// Wait bounds how long to wait for a lock another run holds (DefaultWait when zero).
	Wait time.Duration
	// Notify, when set, is told who holds the lock when another run does: once, and again when the holder
	// changes; and when this run takes over an expired lock.
	Notify func(msg string)
	// Now is the clock (time.Now when nil); MinBackoff and MaxBackoff bound the waits between attempts.
	Now                    func() time.Time
	MinBackoff, MaxBackoff time.Duration

	selfOnce sync.Once
	self     Holder
}

// Location is where S3 locks live: a bucket, a key prefix, and the bucket's region ("": the run's).
type Location struct {
	Bucket, Prefix, Region string
}

// ParseS3URL parses s3://BUCKET/PREFIX[?region=REGION]; the prefix gets a trailing "/" unless empty.
func ParseS3URL(s string) (Location, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.Fragment != "" || u.User != nil {
		return Location{}, fmt.Errorf("%q is not s3://BUCKET/PREFIX", s)
	}
	if err := validBucket(u.Host); err != nil {
		return Location{}, fmt.Errorf("%q: %w", s, err)
	}
	q := u.Query()
	region := q.Get("region")
	q.Del("region")
	if len(q) > 0 {
		return Location{}, fmt.Errorf("%q: the only query parameter is region", s)
	}
	prefix := strings.TrimPrefix(u.Path, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return Location{Bucket: u.Host, Prefix: prefix, Region: region}, nil
}

// validBucket checks S3's general purpose bucket naming rules (3-63 lowercase letters, digits, dots, hyphens,
// starting and ending with a letter or digit).
func validBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return errors.New("bucket names are 3 to 63 characters long")
	}
	for i, c := range b {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && c != '-' && c != '.' || (i == 0 || i == len(b)-1) && !alnum {
			return errors.New("bucket names use lowercase letters, digits, dots and hyphens, and start and end with a letter or digit")
		}
	}
	return nil
}

// Key is the object of roleARN's lock: PREFIX + ACCOUNT/NAME.json (IAM role names are unique in an account,
// whatever their path).
func (l *S3) Key(roleARN string) string {
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[4] != "" && strings.HasPrefix(parts[5], "role/") {
		name := parts[5][strings.LastIndex(parts[5], "/")+1:]
		if name != "" {
			return l.Prefix + parts[4] + "/" + name + ".json"
		}
	}
	return l.Prefix + LeaseName(roleARN) + ".json"
}

// URL names roleARN's lock object.
func (l *S3) URL(roleARN string) string { return "s3://" + l.Bucket + "/" + l.Key(roleARN) }

// With runs fn while holding roleARN's lock object. Once fn runs, a cancelled ctx reaches fn (which rolls
// back) and the lock is held until fn returns; before that, a cancelled ctx stops the wait.
func (l *S3) With(ctx context.Context, roleARN string, fn func(context.Context) error) error {
	key := l.Key(roleARN)
	etag, since, err := l.acquire(ctx, roleARN, key)
	if err != nil {
		return err
	}
	fnCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	renewed := make(chan string, 1)
	stop := make(chan struct{})
	go func() { renewed <- l.renew(fnCtx, key, etag, since, stop, cancel) }()
	fnErr := fn(fnCtx)
	close(stop)
	etag = <-renewed
	if errors.Is(context.Cause(fnCtx), ErrLost) {
		return errors.Join(ErrLost, fnErr)
	}
	l.release(context.WithoutCancel(ctx), roleARN, key, etag)
	return fnErr
}

// acquire takes the object: created when absent, taken over when its holder let it expire, else waited for.
func (l *S3) acquire(ctx context.Context, roleARN, key string) (etag string, since time.Time, err error) {
	deadline := l.now().Add(duration(l.Wait, DefaultWait))
	backoff := l.minBackoff()
	pause := func() error {
		d := min(jitter(backoff), max(time.Until(deadline), 0))
		backoff = min(2*backoff, l.maxBackoff())
		return sleep(ctx, d)
	}
	told := ""
	for {
		now := l.now()
		me := l.record(now, now)
		etag, err := l.put(ctx, key, me, "")
		switch {
		case err == nil:
			return etag, now, nil
		case isConflict(err):
			// 409: another conditional write to the key was in flight; S3 asks to retry
			if !now.Before(deadline) {
				return "", time.Time{}, &HeldError{Role: roleARN, Holder: "concurrent writers (S3 kept answering 409 ConditionalRequestConflict)", Lock: l.url(key), Waited: duration(l.Wait, DefaultWait)}
			}
			if err := pause(); err != nil {
				return "", time.Time{}, err
			}
			continue
		case !isPreconditionFailed(err):
			return "", time.Time{}, l.accessError(ctx, key, err)
		}
		obj, err := l.get(ctx, key)
		cur := obj.holder
		switch {
		case isNotFound(err):
			continue // released in between: create it again
		case err != nil:
			return "", time.Time{}, l.accessError(ctx, key, err)
		case cur.ID == me.ID:
			return obj.etag, cur.Since, nil // our own create, retried by the SDK after S3 had applied it
		case obj.left < 0:
			l.notify(fmt.Sprintf("taking over lock %s of role %s: its holder %s stopped renewing it %s ago (a run that was killed)", l.url(key), roleARN, cur, (-obj.left).Round(time.Second)))
			etag, err := l.put(ctx, key, me, obj.etag)
			switch {
			case err == nil:
				return etag, now, nil
			case isConflict(err), isPreconditionFailed(err), isNotFound(err):
				told = "" // another run took it over first: say who
				if err := pause(); err != nil {
					return "", time.Time{}, err
				}
				continue
			default:
				return "", time.Time{}, l.accessError(ctx, key, err)
			}
		}
		if cur.ID != told {
			told = cur.ID
			backoff = l.minBackoff()
			l.notify(fmt.Sprintf("waiting for lock %s of role %s, held since %s by another kubectl irsa run: %s; taken over if not renewed by %s", l.url(key), roleARN, cur.Since.UTC().Format(time.RFC3339), cur, cur.Expiry.UTC().Format(time.RFC3339)))
		}
		if !now.Before(deadline) {
			return "", time.Time{}, &HeldError{Role: roleARN, Holder: cur.String(), Lock: l.url(key), Waited: duration(l.Wait, DefaultWait)}
		}
		d := min(jitter(backoff), deadline.Sub(now))
		if untilExpiry := obj.left + 10*time.Millisecond; untilExpiry > 0 && untilExpiry < d {
			d = untilExpiry
		}
		if err := sleep(ctx, d); err != nil {
			return "", time.Time{}, err
		}
		backoff = min(2*backoff, l.maxBackoff())
	}
}

// renew rewrites the object every TTL/3 with a later expiry until stop closes, and returns the last ETag. When
// the object was replaced or deleted (broken, or taken over after an expiry) or cannot be renewed before it
// expires, it cancels fn's context with ErrLost.
func (l *S3) renew(ctx context.Context, key, etag string, since time.Time, stop <-chan struct{}, lose context.CancelCauseFunc) string {
	ttl := l.ttl()
	expiry := l.now().Add(ttl)
	ticker := time.NewTicker(ttl / 3)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return etag
		case <-ticker.C:
		}
		now := l.now()
		next, err := l.put(context.WithoutCancel(ctx), key, l.record(since, now), etag)
		switch {
		case err == nil:
			etag, expiry = next, now.Add(ttl)
		case isPreconditionFailed(err), isNotFound(err), !now.Add(ttl / 3).Before(expiry):
			lose(ErrLost)
			<-stop
			return etag
		}
		// other errors (409, throttling, network): try again at the next tick while the lock lives
	}
}

// release deletes the object if it is still ours. A lock that cannot be deleted lapses after its TTL.
func (l *S3) release(ctx context.Context, roleARN, key, etag string) {
	backoff := l.minBackoff()
	for range 5 {
		_, err := l.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(key), IfMatch: aws.String(etag)})
		switch {
		case err == nil, isNotFound(err), isPreconditionFailed(err):
			return
		case isConflict(err):
			_ = sleep(ctx, jitter(backoff))
			backoff = min(2*backoff, l.maxBackoff())
			continue
		}
		l.notify(fmt.Sprintf("could not release lock %s of role %s (%v): the next run takes it over when it expires", l.url(key), roleARN, err))
		return
	}
}

// Status reads roleARN's lock object.
func (l *S3) Status(ctx context.Context, roleARN string) (Status, error) {
	key := l.Key(roleARN)
	st := Status{Role: roleARN, Backend: BackendS3, Lock: l.url(key)}
	obj, err := l.get(ctx, key)
	if isNotFound(err) {
		return st, nil
	}
	if err != nil {
		return st, l.accessError(ctx, key, err)
	}
	st.Held, st.Holder, st.version = true, obj.holder, obj.etag
	return st, nil
}

// Break deletes roleARN's lock object if its ETag is still the one Status read (DeleteObject If-Match).
func (l *S3) Break(ctx context.Context, roleARN string) (Status, error) {
	st, err := l.Status(ctx, roleARN)
	if err != nil || !st.Held {
		return st, err
	}
	key := l.Key(roleARN)
	_, err = l.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(key), IfMatch: aws.String(st.version)})
	switch {
	case isPreconditionFailed(err), isConflict(err), isNotFound(err):
		return st, ErrChanged
	case err != nil:
		return st, l.accessError(ctx, key, err)
	}
	return st, nil
}

// Delete has nothing to remove: a released S3 lock is deleted on release, and a held one belongs to its run (an
// expired one is taken over, then deleted, by the next run).
func (l *S3) Delete(context.Context, string) error { return nil }

// put writes the lock record: only when absent (ifMatch ""), else only over the ETag ifMatch.
func (l *S3) put(ctx context.Context, key string, h Holder, ifMatch string) (string, error) {
	body, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	in := &s3.PutObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(key), Body: bytes.NewReader(body), ContentType: aws.String("application/json")}
	if ifMatch == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(ifMatch)
	}
	out, err := l.Client.PutObject(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// lockObject is a lock object as read: its holder, its ETag, and how long it lives without renewal (negative:
// it lapsed that long ago).
type lockObject struct {
	holder Holder
	etag   string
	left   time.Duration
}

// get reads a lock object. How long it lives is measured on S3's clock: its Last-Modified (whole seconds,
// hence a second more) plus the TTL its record declares (this run's when none, or more than maxRecordTTL),
// against the Date of S3's answer (this run's clock when S3 sent none). Only an object without Last-Modified
// falls back to the expiry its writer recorded, on its writer's clock. The holder's Expiry is then set on this
// run's clock, for messages. A record that cannot be parsed (written by something else) is held by an unnamed
// run since its last change.
func (l *S3) get(ctx context.Context, key string) (lockObject, error) {
	out, err := l.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(key)})
	if err != nil {
		return lockObject{}, err
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(out.Body, 64<<10))
	if err != nil {
		return lockObject{}, err
	}
	var h Holder
	if json.Unmarshal(raw, &h) != nil || h.Expiry.IsZero() {
		h = Holder{ID: "unknown (the lock object is not kubectl irsa's)"}
		if out.LastModified != nil {
			h.Since = *out.LastModified
		}
	}
	obj := lockObject{holder: h, etag: aws.ToString(out.ETag)}
	now := l.now()
	if out.LastModified != nil {
		ttl := l.ttl()
		if d := time.Duration(h.TTLSeconds) * time.Second; d > 0 && d <= maxRecordTTL {
			ttl = d
		}
		s3Now, ok := awsmiddleware.GetServerTime(out.ResultMetadata)
		if !ok {
			s3Now = now
		}
		obj.left = out.LastModified.Add(ttl + time.Second).Sub(s3Now)
	} else {
		obj.left = h.Expiry.Sub(now)
	}
	obj.holder.Expiry = now.Add(obj.left).UTC()
	return obj, nil
}

// record is this run's lock record, taken at since and renewed at now.
func (l *S3) record(since, now time.Time) Holder {
	l.selfOnce.Do(func() {
		l.self = l.Self
		if l.self.ID == "" {
			l.self = Self(l.Self.Cluster, l.Self.Command)
		}
	})
	h := l.self
	h.Since, h.Expiry = since.UTC(), now.Add(l.ttl()).UTC()
	h.TTLSeconds = int(l.ttl() / time.Second)
	return h
}

func (l *S3) ttl() time.Duration { return duration(l.TTL, DefaultS3TTL) }

// accessError wraps an error of S3 that no wait or retry can fix (the context's own error when it ended).
func (l *S3) accessError(ctx context.Context, key string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &AccessError{Backend: BackendS3, Lock: l.url(key), Err: err}
}

func (l *S3) url(key string) string { return "s3://" + l.Bucket + "/" + key }

func (l *S3) notify(msg string) {
	if l.Notify != nil {
		l.Notify(msg)
	}
}

func (l *S3) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *S3) minBackoff() time.Duration { return duration(l.MinBackoff, defaultMinBackoff) }
func (l *S3) maxBackoff() time.Duration { return duration(l.MaxBackoff, defaultMaxBackoff) }

// S3Code is the S3 error code of err ("" when S3 did not answer with one).
func S3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func isPreconditionFailed(err error) bool {
	return err != nil && (S3Code(err) == "PreconditionFailed" || httpStatus(err) == 412)
}

func isConflict(err error) bool {
	return err != nil && (S3Code(err) == "ConditionalRequestConflict" || httpStatus(err) == 409)
}

func isNotFound(err error) bool {
	return err != nil && (S3Code(err) == "NoSuchKey" || S3Code(err) == "NotFound")
}

// jitter spreads d over [d/2, d) so waiting runs do not retry in step.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
