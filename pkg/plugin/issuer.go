package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/irsa"
)

// IssuerOptions prints the cluster's OIDC issuer and where it came from.
type IssuerOptions struct {
	*Globals
	output *outputFlags
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
			if err := o.output.validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.output.addFlags(cmd)
	return cmd
}

// Run discovers and prints the issuer.
func (o *IssuerOptions) Run(ctx context.Context) error {
	kube, _, err := o.KubeClient()
	if err != nil {
		return err
	}
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	disc := &irsa.IssuerDiscovery{Kube: kube, Cluster: o.ClusterRef(), CompareAll: true, TokenNamespace: ns, TokenServiceAccount: "default"}
	if cfg, err := o.AWSConfig(ctx); err == nil {
		disc.EKS = irsa.NewAWSClients(cfg).EKS
	}
	res, err := disc.Discover(ctx)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(o.ErrOut, "warning: %s\n", w)
	}
	if !o.output.human() {
		return o.output.printObject(res, o.Out)
	}
	fmt.Fprintf(o.Out, "%s\t(from %s)\n", res.Issuer, res.Source)
	return nil
}
