package plugin

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/irsa"
)

// ListOptions lists ServiceAccounts with IAM roles.
type ListOptions struct {
	*Globals
	output        *outputFlags
	allNamespaces bool
}

// NewCmdList builds `kubectl irsa list`.
func NewCmdList(g *Globals) *cobra.Command {
	o := &ListOptions{Globals: g, output: newOutputFlags("wide")}
	cmd := &cobra.Command{
		Use:   "list [-n NAMESPACE | -A]",
		Short: "List ServiceAccounts with IAM roles: role exists, trust admits, pods injected",
		Long: `List shows one row per ServiceAccount that has a role annotation (or an EKS Pod Identity association, when
the EKS API answers): its role, whether the role exists, whether its trust admits the ServiceAccount's real
subject, and how many of its pods lack injected credentials. Read only: two Kubernetes list calls and one IAM
read per distinct role.`,
		Example: "  kubectl irsa list\n  kubectl irsa list -A -o wide",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.output.validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	o.output.addFlags(cmd)
	return cmd
}

// Run lists.
func (o *ListOptions) Run(ctx context.Context) error {
	in, namespace, err := o.Globals.inspector(ctx, o.allNamespaces)
	if err != nil {
		return err
	}
	res, err := in.List(ctx, namespace)
	if err != nil {
		return err
	}
	switch o.output.format() {
	case "":
		printList(o.Out, res, false)
	case "wide":
		printList(o.Out, res, true)
	default:
		return o.output.printObject(res, o.Out)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(o.ErrOut, "note: %s\n", n)
	}
	return nil
}

func printList(w io.Writer, res *irsa.ListResult, wide bool) {
	if len(res.Items) == 0 {
		fmt.Fprintln(w, "No ServiceAccounts with IAM roles found.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	header := "NAMESPACE\tSERVICEACCOUNT\tROLE\tROLE EXISTS\tTRUST ADMITS\tPODS\tNOT INJECTED"
	if wide {
		header += "\tSOURCE\tROLE ARN\tACCOUNT\tPROVIDER"
	}
	fmt.Fprintln(tw, header)
	for _, it := range res.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d", it.Namespace, it.ServiceAccount, it.RoleName, it.RoleExists, it.TrustAdmits, it.Pods, it.PodsNotInjected)
		if wide {
			fmt.Fprintf(tw, "\t%s\t%s\t%s\t%s", it.Source, it.RoleARN, it.Account, it.Provider)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// inspector connects to Kubernetes and AWS for the read-only fleet commands and resolves the scope.
func (g *Globals) inspector(ctx context.Context, allNamespaces bool) (*irsa.Inspector, string, error) {
	kube, _, err := g.KubeClient()
	if err != nil {
		return nil, "", err
	}
	namespace := ""
	if !allNamespaces {
		if namespace, err = g.Namespace(); err != nil {
			return nil, "", err
		}
	}
	in := &irsa.Inspector{Kube: kube, Cluster: g.ClusterRef()}
	cfg, err := g.AWSConfig(ctx)
	if err != nil {
		return nil, "", err
	}
	clients := irsa.NewAWSClients(cfg)
	in.IAM, in.EKS = clients.IAMInspect, clients.EKSInspect
	iss, err := (&irsa.IssuerDiscovery{Kube: kube, EKS: clients.EKS, Cluster: in.Cluster}).Discover(ctx)
	if err != nil {
		return nil, "", err
	}
	in.Issuer = iss.Issuer
	return in, namespace, nil
}
