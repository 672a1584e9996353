package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
)

// IssuerOptions prints the cluster's OIDC issuer and where it came from.
type IssuerOptions struct {
	*Globals
	output    *outputFlags
	namespace string
}

// NewCmdIssuer builds `kubectl irsa issuer`.
func NewCmdIssuer(g *Globals) *cobra.Command {
	o := &IssuerOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "issuer",
		Short: "Print the cluster's OIDC issuer and which source answered",
		Long: `Issuer reads the OIDC issuer of the current context's cluster from the API server's
/.well-known/openid-configuration, else from EKS DescribeCluster (cluster name from --eks-cluster, the context
ARN or the exec credential args), else from the iss claim of a TokenRequest token. When the EKS cluster is
known, both sources are compared and a disagreement is reported.`,
		Example: "  kubectl irsa issuer\n  kubectl irsa issuer --context prod -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return asUsage(cmd, err)
			}
			if err := o.Validate(); err != nil {
				return asUsage(cmd, err)
			}
			return o.Run(cmd.Context())
		},
	}
	o.output.addFlags(cmd)
	return cmd
}

// Complete reads the namespace whose default ServiceAccount may mint the last-resort token.
func (o *IssuerOptions) Complete() error {
	ns, err := o.Factory.Namespace()
	o.namespace = ns
	return err
}

// Validate checks the output format.
func (o *IssuerOptions) Validate() error { return o.output.validate() }

// Run discovers and prints the issuer, asking every source to compare them.
func (o *IssuerOptions) Run(ctx context.Context) error {
	res, err := o.discoverIssuer(ctx, o.namespace, "default", true)
	if err != nil {
		return err
	}
	if !o.output.human() {
		return o.output.printObject(res, o.Out)
	}
	fmt.Fprintf(o.Out, "%s\t(from %s)\n", safetext.String(res.Issuer), safetext.String(string(res.Source)))
	return nil
}
