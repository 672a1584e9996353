package plugin

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
)

// ListOptions lists ServiceAccounts with IAM roles.
type ListOptions struct {
	*Globals
	output *outputFlags
	scope  scopeFlags
}

// NewCmdList builds `kubectl irsa list`.
func NewCmdList(g *Globals) *cobra.Command {
	o := &ListOptions{Globals: g, output: newOutputFlags("wide", "name")}
	cmd := &cobra.Command{
		Use:   "list [-n NAMESPACE | -A]",
		Short: "List ServiceAccounts with IAM roles (IRSA annotation or Pod Identity association): role, trust, pods injected",
		Long: `List shows one row per ServiceAccount that has a role annotation (or an EKS Pod Identity association, when
the EKS API answers): its mechanism (irsa, pod-identity, or both when annotation and association name the same
role), its role, whether the role exists, whether its trust admits the ServiceAccount's real subject (for Pod
Identity: pods.eks.amazonaws.com with sts:AssumeRole and sts:TagSession), and how many of its pods lack injected
credentials. Read only: two Kubernetes list calls and one IAM read per distinct role. -o name prints
serviceaccount/NAME per ServiceAccount, as kubectl does (without the namespace, also with -A).

Exit status: 0 every row is fine, 1 a row shows a problem (role missing, trust not admitting the ServiceAccount,
annotation not a role ARN, pods not injected; stderr names them), 2 a read failed and a row is incomplete (see
the notes), a usage error, or the cluster or AWS unreachable.`,
		Example: "  kubectl irsa list\n  kubectl irsa list -A -o wide\n  kubectl irsa list -n shop -o name",
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
	o.scope.addFlags(cmd, "list across all namespaces")
	o.Flags.addRoleProfileFlag(cmd.Flags())
	o.output.addFlags(cmd)
	return cmd
}

// Complete resolves the scope.
func (o *ListOptions) Complete() error { return o.scope.complete(o.Factory) }

// Validate checks the output format.
func (o *ListOptions) Validate() error { return o.output.validate() }

// Run lists; exit 1 when a row shows a problem, else 2 when a read failed.
func (o *ListOptions) Run(ctx context.Context) error {
	in, err := o.inspector(ctx, true)
	if err != nil {
		return err
	}
	res, err := in.List(ctx, o.scope.namespace)
	if err != nil {
		return err
	}
	switch o.output.format() {
	case "":
		printList(o.Out, res, false)
	case "wide":
		printList(o.Out, res, true)
	case "name":
		printNames(o.Out, res)
	default:
		if err := o.output.printObject(res, o.Out); err != nil {
			return err
		}
	}
	for _, n := range append(res.Notes, res.CouldNotCheck...) {
		fmt.Fprintf(o.ErrOut, "note: %s\n", safetext.String(n))
	}
	return listStatus(res)
}

// listStatus is list's exit status: 1 when a row shows a problem (the error line names the first ones), else 2
// when a read failed, else 0.
func listStatus(res *inspect.ListResult) error {
	var problems []string
	for _, it := range res.Items {
		if p := it.Problem(); p != "" {
			problems = append(problems, it.Namespace+"/"+it.ServiceAccount+" ("+p+")")
		}
	}
	if len(problems) == 0 {
		return exitStatus(false, res.CouldNotCheck)
	}
	const shown = 3
	msg := strings.Join(problems[:min(len(problems), shown)], "; ")
	if len(problems) > shown {
		msg += fmt.Sprintf("; and %d more", len(problems)-shown)
	}
	return &ExitError{Code: 1, Err: fmt.Errorf("%d of %d rows show a problem: %s; kubectl irsa doctor SERVICEACCOUNT -n NAMESPACE says why and how to fix it", len(problems), len(res.Items), msg)}
}

// printNames prints serviceaccount/NAME once per ServiceAccount, as kubectl get -o name does (kubectl prints
// no namespace, with -A too).
func printNames(w io.Writer, res *inspect.ListResult) {
	seen := map[string]bool{}
	for _, it := range res.Items {
		if key := it.Namespace + "/" + it.ServiceAccount; !seen[key] {
			seen[key] = true
			fmt.Fprintf(w, "serviceaccount/%s\n", safetext.String(it.ServiceAccount))
		}
	}
}

func printList(w io.Writer, res *inspect.ListResult, wide bool) {
	if len(res.Items) == 0 {
		fmt.Fprintln(w, "No ServiceAccounts with IAM roles found.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	header := "NAMESPACE\tSERVICEACCOUNT\tMECHANISM\tROLE\tROLE EXISTS\tTRUST ADMITS\tPODS\tNOT INJECTED\tMIGRATION"
	if wide {
		header += "\tSOURCE\tROLE ARN\tACCOUNT\tPROVIDER"
	}
	fmt.Fprintln(tw, header)
	for _, it := range res.Items {
		migration := it.Migration
		if migration == "" {
			migration = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s", cell(it.Namespace), cell(it.ServiceAccount), cell(it.Mechanism), cell(it.RoleName), cell(it.RoleExists), cell(it.TrustAdmits), it.Pods, it.PodsNotInjected, migration)
		if wide {
			fmt.Fprintf(tw, "\t%s\t%s\t%s\t%s", cell(it.Source), cell(it.RoleARN), cell(it.Account), cell(it.Provider))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// listCellMax bounds a table cell, in runes: a 100 KB annotation value would otherwise pad every row to its width.
const listCellMax = 128

// cell is a table cell: escaped and cut with an ellipsis.
func cell(s string) string { return safetext.Short(s, listCellMax) }
