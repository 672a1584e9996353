package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// NewCmdProvider builds `kubectl irsa provider`.
func NewCmdProvider(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provider",
		Short: "Manage the cluster's IAM OIDC provider",
	}
	cmd.AddCommand(NewCmdProviderCreate(g))
	return cmd
}

// ProviderCreateOptions creates the IAM OIDC provider for the cluster's issuer.
type ProviderCreateOptions struct {
	*Globals
	output *outputFlags
	dryRun bool
}

// NewCmdProviderCreate builds `kubectl irsa provider create`.
func NewCmdProviderCreate(g *Globals) *cobra.Command {
	o := &ProviderCreateOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create the IAM OIDC provider for the cluster's issuer (client ID sts.amazonaws.com), if missing",
		Example: `  kubectl irsa provider create
  kubectl irsa provider create --dry-run -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Complete()
			if err := o.Validate(); err != nil {
				return asUsage(cmd, err)
			}
			return o.Run(cmd.Context())
		},
	}
	addDryRunFlag(cmd.Flags(), &o.dryRun, "print what would be created and write nothing")
	o.output.addFlags(cmd)
	return cmd
}

// Complete has nothing to complete: the provider is the cluster's, the account the caller's.
func (o *ProviderCreateOptions) Complete() {}

// Validate checks the output format.
func (o *ProviderCreateOptions) Validate() error { return o.output.validate() }

// Run creates the provider when it does not exist.
func (o *ProviderCreateOptions) Run(ctx context.Context) error {
	ns, err := o.Factory.Namespace()
	if err != nil {
		return err
	}
	s, _, err := o.newSetup(ctx, ns)
	if err != nil {
		return err
	}
	plan, err := s.PlanProvider(ctx, o.dryRun)
	if err != nil {
		return err
	}
	res, err := applyPlan(ctx, plan, o.output.human(), o.ErrOut)
	if err != nil {
		return err
	}
	if !o.output.human() {
		return o.output.printObject(res, o.Out)
	}
	printActions(o.Out, res)
	fmt.Fprintln(o.Out, res.Provider.ARN)
	printHints(o.ErrOut, res)
	return nil
}
