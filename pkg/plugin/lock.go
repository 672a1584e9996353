package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/rolelock"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// lockEnv chooses the lock when --lock is not given.
const lockEnv = "KUBECTL_IRSA_LOCK"

// lockKubernetes is --lock's default: a Lease in the cluster.
const lockKubernetes = "kubernetes"

// lockValue is --lock: "kubernetes" or s3://BUCKET/PREFIX[?region=REGION], checked when parsed.
type lockValue struct {
	raw string
	s3  *rolelock.Location
}

func parseLock(s string) (lockValue, error) {
	if s == lockKubernetes {
		return lockValue{raw: s}, nil
	}
	if !strings.HasPrefix(s, "s3://") {
		return lockValue{}, fmt.Errorf("%q: want %s or s3://BUCKET/PREFIX", s, lockKubernetes)
	}
	loc, err := rolelock.ParseS3URL(s)
	if err != nil {
		return lockValue{}, err
	}
	return lockValue{raw: s, s3: &loc}, nil
}

func (v *lockValue) Set(s string) error {
	parsed, err := parseLock(s)
	if err != nil {
		return err
	}
	*v = parsed
	return nil
}

func (v *lockValue) String() string { return v.raw }
func (v *lockValue) Type() string   { return "string" }

// lockFlags choose the per-role lock, for the commands that write a role's trust or policy (and lock status|break).
type lockFlags struct {
	namespace string
	lock      lockValue
}

func (l *lockFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&l.namespace, "lock-namespace", rolelock.DefaultNamespace, "namespace of the per-role Lease that serialises kubectl irsa's writes to a role (every run against the cluster must use the same)")
	f.Var(&l.lock, "lock", "per-role lock serialising kubectl irsa's writes to a role: kubernetes (a Lease in the cluster: runs against other clusters do not see it) or s3://BUCKET/PREFIX[?region=REGION] (an object per role: one lock for every cluster using the bucket); default $"+lockEnv+", else kubernetes")
}

// chosen is --lock, else $KUBECTL_IRSA_LOCK, else kubernetes.
func (l *lockFlags) chosen() (lockValue, error) {
	if l.lock.raw != "" {
		return l.lock, nil
	}
	env := os.Getenv(lockEnv)
	if env == "" {
		return lockValue{raw: lockKubernetes}, nil
	}
	v, err := parseLock(env)
	if err != nil {
		return lockValue{}, &usageError{err: fmt.Errorf("%s: %w", lockEnv, err), path: "kubectl irsa"}
	}
	return v, nil
}

// locker builds the chosen lock backend; notify hears who holds a lock this run waits for.
func (l *lockFlags) locker(ctx context.Context, g *Globals, notify func(string)) (rolelock.Locker, error) {
	v, err := l.chosen()
	if err != nil {
		return nil, err
	}
	if v.s3 == nil {
		kube, err := g.Factory.KubeClient()
		if err != nil {
			return nil, err
		}
		return &rolelock.Lease{Kube: kube, Namespace: l.namespace, Notify: notify}, nil
	}
	clients, err := g.Factory.AWS(ctx)
	if err != nil {
		return nil, err
	}
	if clients.S3 == nil {
		return nil, errors.New("no S3 client for --lock " + v.raw)
	}
	return &rolelock.S3{Client: clients.S3(v.s3.Region), Bucket: v.s3.Bucket, Prefix: v.s3.Prefix,
		Self: rolelock.Self(g.contextName(), runCommand(os.Args)), Notify: notify}, nil
}

// apply makes s take the chosen lock of a role around every write to it.
func (l *lockFlags) apply(ctx context.Context, g *Globals, s *setup.Setup) error {
	errOut := g.ErrOut
	locker, err := l.locker(ctx, g, func(msg string) { fmt.Fprintf(errOut, "note: %s\n", safetext.String(msg)) })
	if err != nil {
		return err
	}
	v, _ := l.chosen()
	s.Lock = func(ctx context.Context, roleARN string, fn func(context.Context) error) error {
		return l.lockError(v, roleARN, locker.With(ctx, roleARN, fn))
	}
	s.DeleteLock = locker.Delete
	return nil
}

// lockError turns a lock that could not be taken into one line saying what to do; nothing was written then.
func (l *lockFlags) lockError(v lockValue, roleARN string, err error) error {
	var held *rolelock.HeldError
	if errors.As(err, &held) {
		return fmt.Errorf("%w; nothing was written: retry later, or if that run is gone, `kubectl irsa lock break %s` (with the same --lock) removes its lock", err, roleARN)
	}
	var access *rolelock.AccessError
	if !errors.As(err, &access) {
		return err
	}
	switch access.Backend {
	case rolelock.BackendKubernetes:
		if apierrors.IsForbidden(access.Err) || apierrors.IsUnauthorized(access.Err) {
			return fmt.Errorf("cannot take lease %s that serialises writes to role %s: forbidden; grant get, create and update on leases.coordination.k8s.io in namespace %s (or pick a namespace you may write with --lock-namespace, or --lock s3://BUCKET/PREFIX); nothing was written", access.Lock, roleARN, l.namespace)
		}
	case rolelock.BackendS3:
		bucket, prefix := v.s3.Bucket, v.s3.Prefix
		switch code := rolelock.S3Code(access.Err); code {
		case "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken":
			return fmt.Errorf("cannot take lock %s that serialises writes to role %s: S3 answered %s; allow s3:PutObject, s3:GetObject and s3:DeleteObject on arn:aws:s3:::%s/%s* to these credentials (or choose another lock with --lock); nothing was written", access.Lock, roleARN, code, bucket, prefix)
		case "NoSuchBucket":
			return fmt.Errorf("cannot take lock %s that serialises writes to role %s: bucket %s does not exist; create it (every cluster sharing the role must use the same bucket and prefix) or choose another lock with --lock; nothing was written", access.Lock, roleARN, bucket)
		case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
			return fmt.Errorf("cannot take lock %s that serialises writes to role %s: bucket %s is in another region than this run; add ?region=REGION to --lock; nothing was written", access.Lock, roleARN, bucket)
		}
	}
	return fmt.Errorf("cannot take lock %s that serialises writes to role %s: %w; nothing was written", access.Lock, roleARN, access.Err)
}

// contextName is the kubeconfig context the run uses ("" when there is none).
func (g *Globals) contextName() string {
	cf := g.Flags.ConfigFlags
	if cf.Context != nil && *cf.Context != "" {
		return *cf.Context
	}
	raw, err := cf.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return ""
	}
	return raw.CurrentContext
}

// runCommand is the command recorded in a lock: "kubectl irsa" and the words before the first flag (flags may
// carry credentials such as --token, and are never recorded).
func runCommand(args []string) string {
	words := []string{"kubectl irsa"}
	for _, a := range args[min(1, len(args)):] {
		if strings.HasPrefix(a, "-") {
			break
		}
		words = append(words, a)
	}
	return safetext.Short(safetext.Redact(strings.Join(words, " ")), 200)
}
