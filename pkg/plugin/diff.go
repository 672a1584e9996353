package plugin

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// Exit codes of diff, kubectl diff's: 0 in sync, 1 drift, 2 the comparison could not be made.
const (
	DiffDriftExitCode = 1
	DiffErrorExitCode = 2
)

// DiffOptions compares live state with IdentitySet files.
type DiffOptions struct {
	*Globals
	files  IdentityFiles
	output *outputFlags
	prune  bool
}

// NewCmdDiff builds `kubectl irsa diff`.
func NewCmdDiff(g *Globals) *cobra.Command {
	o := &DiffOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "diff -f FILE|DIR|-",
		Short: "Show how live state differs from IdentitySet files (exit 0 in sync, 1 drift, 2 error)",
		Long: `Diff reads live state (annotations, associations, trust subjects and the Pod Identity statement, the
ServiceAccounts' inline-policy statements, attached policies, the provider) and prints per object what
apply would change, in link's plan form, then each drift by class: provider missing, role missing, subject
missing or extra, statement missing, changed or extra, managed policy not attached, serviceaccount missing
or extra, annotation missing or naming another role, association missing, pointing elsewhere or extra, mechanism
conflict. A statement kubectl irsa did not write is information, never drift. Nothing is written.

Exit status as kubectl diff: 0 in sync, 1 drift, 2 error (invalid files, or a read that failed: could not
check).`,
		Example: `  # In CI: fail the pipeline when the cluster drifted from the files
  kubectl irsa diff -f identities/ || exit

  kubectl irsa diff -f identities/payments.yaml -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return asUsage(cmd, err)
			}
			err := o.Run(cmd.Context())
			var exit *ExitError
			if err != nil && !errors.As(err, &exit) {
				err = &ExitError{Code: DiffErrorExitCode, Err: fmt.Errorf("could not check: %w", err)}
			}
			return err
		},
	}
	o.files.AddFlag(cmd.Flags())
	cmd.Flags().BoolVar(&o.prune, "prune", false, "show the removals apply --prune would make (the drift is named either way)")
	o.Flags.addRoleProfileFlag(cmd.Flags())
	o.output.addFlags(cmd)
	return cmd
}

// Validate checks the flags before any call.
func (o *DiffOptions) Validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	return o.files.Validate()
}

// Run loads the files, plans without writing, and prints the plan and the drift.
func (o *DiffOptions) Run(ctx context.Context) error {
	docs, err := o.files.Load(o.In, o.ErrOut)
	if err != nil {
		return err
	}
	plan, err := o.planSet(ctx, setup.SetRequest{Sets: setsOf(docs), DryRun: true, Prune: o.prune}, nil)
	if err != nil {
		return err
	}
	res := plan.Result("DiffResult")
	res.DryRun = false
	if o.output.human() {
		fmt.Fprintf(o.Out, "Diff of %s:\n", describeSets(res.Sets))
		printChanges(o.Out, res)
		for _, d := range res.Drift {
			fmt.Fprintf(o.Out, "drift: %s: %s: %s\n", d.Class, safetext.Short(d.Object, maxNameRunes), safetext.Short(d.Detail, maxLineRunes))
		}
		if len(res.Drift) == 0 {
			fmt.Fprintln(o.Out, "in sync")
		}
		printSetNotes(o.ErrOut, res)
	} else if err := o.output.printObject(res, o.Out); err != nil {
		return err
	}
	if plan.Drifted() {
		return &ExitError{Code: DiffDriftExitCode}
	}
	return nil
}
