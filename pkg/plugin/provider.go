package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/irsa"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
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
			if err := o.output.validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print what would be created and write nothing")
	o.output.addFlags(cmd)
	return cmd
}

// Run creates the provider when it does not exist.
func (o *ProviderCreateOptions) Run(ctx context.Context) error {
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	s, err := o.newSession(ctx, ns)
	if err != nil {
		return err
	}
	l := s.linker
	caller, err := irsa.WhoAmI(ctx, l.STS)
	if err != nil {
		return err
	}
	st, err := irsa.LookupProvider(ctx, l.IAM, caller.Partition, caller.Account, l.Issuer, trust.DefaultAudience)
	if err != nil {
		return err
	}
	res := irsa.NewResult("ProviderResult")
	res.Issuer = st.Provider.HostPath
	res.DryRun = o.dryRun
	res.Provider = &irsa.ProviderInfo{ARN: st.Provider.ARN, Exists: st.Exists}
	resource := "oidc-provider/" + st.Provider.HostPath
	switch {
	case st.Exists && st.MissingClientID == "":
		res.Unchanged = true
		res.Actions = append(res.Actions, irsa.Action{Op: "=", Resource: resource, Detail: "OIDC provider exists", Status: irsa.StatusUnchanged})
	case st.Exists:
		res.Actions = append(res.Actions, irsa.Action{Op: "~", Resource: resource, Detail: "add client ID " + st.MissingClientID, Status: irsa.StatusPlanned})
		if !o.dryRun {
			if err := irsa.AddClientID(ctx, l.IAM, st.Provider.ARN, st.MissingClientID); err != nil {
				return err
			}
			res.Actions[0].Status = irsa.StatusDone
		}
	default:
		tp, tpErr := l.Thumbprint(ctx, l.Issuer)
		if tpErr != nil {
			res.Provider.Note = fmt.Sprintf("thumbprint omitted (%v): IAM fetches and verifies the issuer's certificate itself", tpErr)
		}
		res.Provider.Thumbprint = tp
		res.Actions = append(res.Actions, irsa.Action{Op: "+", Resource: resource, Detail: "create OIDC provider with client ID " + trust.DefaultAudience, Status: irsa.StatusPlanned})
		if !o.dryRun {
			if err := irsa.CreateProvider(ctx, l.IAM, l.Issuer, trust.DefaultAudience, tp); err != nil {
				return err
			}
			res.Actions[0].Status = irsa.StatusDone
			res.Provider.Exists = true
		}
	}
	if !o.output.human() {
		return o.output.printObject(res, o.Out)
	}
	printActions(o.Out, res)
	fmt.Fprintln(o.Out, st.Provider.ARN)
	printHints(o.ErrOut, res)
	return nil
}
