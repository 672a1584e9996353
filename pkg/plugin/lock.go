package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/rolelock"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// lockFlags choose where the per-role leases live, for the commands that write a role's trust or policy.
type lockFlags struct {
	namespace string
}

func (l *lockFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&l.namespace, "lock-namespace", rolelock.DefaultNamespace, "namespace of the per-role Lease that serialises kubectl irsa's writes to a role (every run against the cluster must use the same)")
}

// apply makes s take the role's lease around every write to a role.
func (l *lockFlags) apply(s *setup.Setup, errOut io.Writer) {
	locker := &rolelock.Locker{Kube: s.Kube, Namespace: l.namespace, Notify: func(msg string) {
		fmt.Fprintf(errOut, "note: %s\n", safetext.String(msg))
	}}
	s.Lock = func(ctx context.Context, roleARN string, fn func(context.Context) error) error {
		err := locker.With(ctx, roleARN, fn)
		var access *rolelock.AccessError
		if errors.As(err, &access) && (apierrors.IsForbidden(access.Err) || apierrors.IsUnauthorized(access.Err)) {
			return fmt.Errorf("cannot take lease %s that serialises writes to role %s: forbidden; grant get, create and update on leases.coordination.k8s.io in namespace %s (or pick a namespace you may write with --lock-namespace)", access.Lease, roleARN, locker.Namespace)
		}
		return err
	}
	s.DeleteLock = locker.Delete
}
