package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// MigrateOptions moves ServiceAccounts from IRSA to EKS Pod Identity, and back.
type MigrateOptions struct {
	*Globals
	output        *outputFlags
	all           bool
	allNamespaces bool
	req           setup.MigrateRequest
	lock          lockFlags
}

// NewCmdMigrate builds `kubectl irsa migrate`.
func NewCmdMigrate(g *Globals) *cobra.Command {
	o := &MigrateOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "migrate [SERVICEACCOUNT...] [-n NAMESPACE | --all | -A]",
		Short: "Move ServiceAccounts from IRSA to EKS Pod Identity one at a time, proven end to end; --rollback moves them back",
		Long: `Migrate moves each ServiceAccount on its own: a preflight (agent installed, node roles of aws-auth and EKS
access entries may call EKS Auth, no Fargate or Windows pod, no AWS CLI image and no SDK in the recent logs of
one of its pods older than Pod Identity's minimum, no proxy catching 169.254.170.23, not an EKS add-on's
ServiceAccount; a log or access entry that cannot be read is noted, not a reason to skip), then our Pod
Identity statement added to the same role (the IRSA statement stays), the association created, the step recorded
on the ServiceAccount (annotation irsa.kubectl-irsa.io/migration), workloads restarted (--restart) or listed, and
the move verified through EKS Auth AssumeRoleForPodIdentity and STS. A failed verification rolls that
ServiceAccount back. Only --remove-irsa then removes the role annotation and the ServiceAccount's IRSA subject.
Re-running resumes from the recorded step. Exit 0 when every ServiceAccount in scope migrated, 1 when any was skipped or failed.`,
		Example: `  kubectl irsa migrate irsa-test -n irsa-sample-ns --dry-run
  kubectl irsa migrate -n shop --all --restart
  kubectl irsa migrate -A --remove-irsa
  kubectl irsa migrate irsa-test -n irsa-sample-ns --rollback`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return asUsage(cmd, err)
			}
			if err := o.Validate(); err != nil {
				return asUsage(cmd, err)
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.all, "all", false, "every ServiceAccount of the namespace that uses IRSA")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "every ServiceAccount of every namespace that uses IRSA")
	addDryRunFlag(f, &o.req.DryRun, "print the preflight and plan, write nothing")
	f.BoolVar(&o.req.Restart, "restart", false, "roll the Deployments, StatefulSets and DaemonSets whose pods predate the change")
	f.BoolVar(&o.req.RemoveIRSA, "remove-irsa", false, "after a verified move, remove the role annotation and the ServiceAccount's IRSA trust subject")
	o.lock.addFlags(f)
	f.BoolVar(&o.req.Rollback, "rollback", false, "move back to IRSA: annotation and IRSA statement restored, association and Pod Identity statement removed")
	o.output.addFlags(cmd)
	return cmd
}

// Complete fills the request from args and flags.
func (o *MigrateOptions) Complete(args []string) error {
	o.req.Names = args
	if o.allNamespaces {
		return nil
	}
	ns, err := o.Factory.Namespace()
	o.req.Namespace = ns
	return err
}

// Validate checks the request before any call.
func (o *MigrateOptions) Validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	switch {
	case len(o.req.Names) > 0 && (o.all || o.allNamespaces):
		return errors.New("name ServiceAccounts, or use --all or -A, not both")
	case len(o.req.Names) == 0 && !o.all && !o.allNamespaces:
		return errors.New("name the ServiceAccounts to migrate, or use --all (the namespace) or -A (every namespace)")
	case o.req.Rollback && o.req.RemoveIRSA:
		return errors.New("--rollback and --remove-irsa go in opposite directions: use one")
	}
	for _, n := range o.req.Names {
		if err := validateServiceAccount(o.req.Namespace, n); err != nil {
			return err
		}
	}
	return nil
}

// Run migrates (or rolls back) each ServiceAccount and prints one line per ServiceAccount.
func (o *MigrateOptions) Run(ctx context.Context) error {
	ns := o.req.Namespace
	if ns == "" {
		ns = "default"
	}
	p, err := o.newPodIdentity(ctx, ns)
	if err != nil {
		return err
	}
	if err := o.lock.apply(ctx, o.Globals, p.Setup); err != nil {
		return err
	}
	clients, err := o.Factory.AWS(ctx)
	if err != nil {
		return err
	}
	m := &setup.Migrator{PodIdentity: p, Verifier: &setup.EndToEndVerifier{Kube: p.Kube, EKSAuth: clients.PodIdentityCredentials, STS: clients.STS}, AccessEntries: clients.EKS}
	list, err := m.Migrate(ctx, o.req)
	if err != nil {
		return err
	}
	if len(list.Items) == 0 && o.all && o.req.Namespace != "" {
		// An empty scope in a namespace that does not exist is a mistake, not "nothing uses IRSA".
		if _, err := p.Kube.CoreV1().Namespaces().Get(ctx, o.req.Namespace, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return &ExitError{Code: 2, Err: fmt.Errorf("namespace %q not found (kubectl get namespaces lists them)", o.req.Namespace)}
		}
	}
	if o.output.human() {
		printMigrations(o.Out, o.ErrOut, list)
	} else if err := o.output.printObject(list, o.Out); err != nil {
		return err
	}
	if !list.Succeeded() {
		return &ExitError{Code: 1}
	}
	return nil
}

// printMigrations prints each ServiceAccount's actions and one outcome line to stdout, hints to stderr.
func printMigrations(out, errOut io.Writer, list *api.MigrationList) {
	if list.DryRun {
		fmt.Fprintln(out, dryRunHeader)
	}
	for _, m := range list.Items {
		name := safetext.Terminal(m.Namespace + "/" + m.ServiceAccount)
		printActions(out, &api.Result{Actions: m.Actions})
		var line string
		switch m.Outcome {
		case api.MigrationMigrated:
			line = fmt.Sprintf("migrated %s: role %s, verified as %s", name, m.RoleARN, m.AssumedRole)
		case api.MigrationUnchanged:
			line = fmt.Sprintf("unchanged %s: already migrated to %s", name, m.RoleARN)
		case api.MigrationPlanned:
			line = fmt.Sprintf("planned %s: role %s", name, m.RoleARN)
		case api.MigrationRolledBack:
			line = fmt.Sprintf("rolled back %s: IRSA with role %s", name, m.RoleARN)
		case api.MigrationSkipped:
			line = fmt.Sprintf("skipped %s: %s", name, strings.Join(m.Reasons, "; "))
		default:
			line = fmt.Sprintf("failed %s: %s", name, strings.Join(m.Reasons, "; "))
		}
		if m.ResumedFrom != "" && m.Outcome != api.MigrationUnchanged {
			line += " (resumed from step " + m.ResumedFrom + ")"
		}
		fmt.Fprintln(out, safetext.String(line))
		for _, h := range m.Hints {
			fmt.Fprintf(errOut, "hint: %s\n", safetext.String(h))
		}
		for _, n := range m.CouldNotCheck {
			fmt.Fprintf(errOut, "note: %s: %s\n", name, safetext.String(n))
		}
	}
	if len(list.Items) == 0 {
		fmt.Fprintln(out, "no ServiceAccount in scope uses IRSA")
	}
}
