package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/rolelock"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
)

// NewCmdLock builds `kubectl irsa lock status|break ROLE`.
func NewCmdLock(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lock",
		Short: "Show or break the per-role lock that serialises kubectl irsa's writes to a role",
		Long: `Every kubectl irsa run that writes a role's trust or inline policy holds the role's lock: a Lease in the
cluster (--lock kubernetes, the default) or an object in S3 (--lock s3://BUCKET/PREFIX, or $` + lockEnv + `),
which every cluster using the same bucket and prefix shares. A run that dies holding it blocks others until it
expires (15 s for a Lease, 30 s in S3); status shows the holder, break removes it.`,
	}
	cmd.AddCommand(newCmdLockAction(g, "status"), newCmdLockAction(g, "break"))
	return cmd
}

// LockOptions are the options of `lock status` and `lock break`.
type LockOptions struct {
	*Globals
	lock   lockFlags
	output *outputFlags
	action string
	role   string
}

func newCmdLockAction(g *Globals, action string) *cobra.Command {
	o := &LockOptions{Globals: g, action: action, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   action + " ROLE",
		Short: "Show who holds a role's lock (holder, since, expiry, backend)",
		Example: `  kubectl irsa lock status irsa-role
  kubectl irsa lock status arn:aws:iam::123456789012:role/team/app --lock s3://irsa-locks/prod`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return asUsage(cmd, err)
			}
			if err := o.output.validate(); err != nil {
				return asUsage(cmd, err)
			}
			return o.Run(cmd.Context())
		},
	}
	if action == "break" {
		cmd.Short = "Remove a role's lock as it is now (a newer holder is kept), and say who held it"
		cmd.Example = `  # A run was killed holding the lock and others wait for it
  kubectl irsa lock break irsa-role --lock s3://irsa-locks/prod`
	}
	o.lock.addFlags(cmd.Flags())
	o.Flags.addRoleProfileFlag(cmd.Flags())
	o.output.addFlags(cmd)
	return cmd
}

// Complete checks ROLE: a role ARN, or a role name of the caller's account.
func (o *LockOptions) Complete(args []string) error {
	o.role = args[0]
	if strings.HasPrefix(o.role, "arn:") {
		_, err := iamref.ParseRole(o.role)
		return err
	}
	return iamref.ValidateRoleName(o.role)
}

// Run reads (status) or removes (break) the role's lock.
func (o *LockOptions) Run(ctx context.Context) error {
	roleARN, err := o.roleARN(ctx)
	if err != nil {
		return err
	}
	locker, err := o.lock.locker(ctx, o.Globals, nil)
	if err != nil {
		return err
	}
	now := time.Now()
	if o.action == "status" {
		st, err := locker.Status(ctx, roleARN)
		if err != nil {
			return o.readError(roleARN, err)
		}
		if !o.output.human() {
			return o.output.printObject(st.Report(now, false), o.Out)
		}
		o.printStatus(st, now)
		return nil
	}
	st, err := locker.Break(ctx, roleARN)
	switch {
	case errors.Is(err, rolelock.ErrChanged):
		return fmt.Errorf("lock %s of role %s was held by %s, but %v: nothing was removed; run lock status again", st.Lock, roleARN, st.Holder, err)
	case err != nil:
		return o.readError(roleARN, err)
	case !o.output.human():
		if err := o.output.printObject(st.Report(now, st.Held), o.Out); err != nil {
			return err
		}
	case !st.Held:
		fmt.Fprintf(o.Out, "lock %s of role %s is not held: nothing to break\n", st.Lock, roleARN)
	default:
		fmt.Fprintln(o.Out, safetext.String(fmt.Sprintf("broke lock %s of role %s, held by %s since %s (%s)", st.Lock, roleARN, st.Holder, st.Holder.Since.UTC().Format(time.RFC3339), expiry(st, now))))
	}
	if st.Held && !st.Expired(now) {
		fmt.Fprintln(o.ErrOut, "note: the holder's lock had not expired: if that run is still writing, the next run's read-back and re-merge keep both changes, but check the role's trust when it ends")
	}
	return nil
}

func (o *LockOptions) printStatus(st rolelock.Status, now time.Time) {
	fmt.Fprintf(o.Out, "role:     %s\n", st.Role)
	fmt.Fprintf(o.Out, "backend:  %s\n", st.Backend)
	fmt.Fprintf(o.Out, "lock:     %s\n", st.Lock)
	if !st.Held {
		fmt.Fprintln(o.Out, "holder:   none (free)")
		return
	}
	fmt.Fprintln(o.Out, safetext.String("holder:   "+st.Holder.String()))
	if !st.Holder.Since.IsZero() {
		fmt.Fprintf(o.Out, "since:    %s (%s ago)\n", st.Holder.Since.UTC().Format(time.RFC3339), now.Sub(st.Holder.Since).Round(time.Second))
	}
	fmt.Fprintf(o.Out, "expiry:   %s\n", expiry(st, now))
}

// expiry says when the holder's lock lapses, or since when it has.
func expiry(st rolelock.Status, now time.Time) string {
	switch {
	case st.Holder.Expiry.IsZero():
		return "unknown"
	case st.Expired(now):
		return fmt.Sprintf("%s (expired %s ago: the next run takes it over)", st.Holder.Expiry.UTC().Format(time.RFC3339), now.Sub(st.Holder.Expiry).Round(time.Second))
	}
	return fmt.Sprintf("%s (in %s unless renewed)", st.Holder.Expiry.UTC().Format(time.RFC3339), st.Holder.Expiry.Sub(now).Round(time.Second))
}

// readError turns a lock that cannot be read or removed into one line.
func (o *LockOptions) readError(roleARN string, err error) error {
	v, verr := o.lock.chosen()
	if verr != nil {
		return verr
	}
	var access *rolelock.AccessError
	if errors.As(err, &access) {
		msg := o.lock.lockError(v, roleARN, err).Error()
		msg = strings.Replace(msg, "cannot take lock", "cannot read lock", 1)
		return errors.New(strings.TrimSuffix(msg, "; nothing was written"))
	}
	return err
}

// roleARN is ROLE's ARN: as given, or the caller's account's role of that name (its path read from IAM; "/"
// when it does not exist).
func (o *LockOptions) roleARN(ctx context.Context) (string, error) {
	if strings.HasPrefix(o.role, "arn:") {
		return o.role, nil
	}
	account, err := o.Factory.RoleProfileAccount(ctx)
	if err != nil {
		return "", err
	}
	caller, err := o.Factory.Caller(ctx)
	if err != nil {
		return "", err
	}
	if account == "" {
		account = caller.Account
	}
	clients, err := o.Factory.AWS(ctx)
	if err != nil {
		return "", err
	}
	client, err := setupAccounts(o.Globals, clients).For(ctx, account)
	if err != nil {
		return "", err
	}
	role := state.ReadRole(ctx, client, o.role)
	switch role.Presence {
	case state.Found:
		return role.ARN, nil
	case state.Unknown:
		fmt.Fprintf(o.ErrOut, "note: could not read role %s (%s): assuming path /; pass the role's ARN if it has another\n", o.role, safetext.Short(safetext.String(role.Err.Error()), 200))
	}
	return iamref.RoleARN(caller.Partition, account, "/", o.role), nil
}
