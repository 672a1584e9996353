package plugin

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/irsa"
)

// AuditOptions audits IRSA roles for dangerous trust and permissions.
type AuditOptions struct {
	*Globals
	output        *outputFlags
	allNamespaces bool
}

// NewCmdAudit builds `kubectl irsa audit`.
func NewCmdAudit(g *Globals) *cobra.Command {
	o := &AuditOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "audit [-n NAMESPACE | -A]",
		Short: "Find dangerous IRSA trust policies: wildcard or missing sub, missing aud, dangling subjects, admin roles",
		Long: `Audit checks every role a ServiceAccount in scope references, and every role of the account whose trust names
this cluster's OIDC provider: StringLike wildcards on sub (every matching ServiceAccount can take the role),
missing sub or aud conditions, an issuer URL as principal, subjects whose ServiceAccount does not exist (whoever
creates it first gets the role), roles trusted by several clusters, "Action": "*" or AdministratorAccess on a
role in use, and annotations pointing at another account without a provider. Exit status 1 when any finding is
high. Read only.`,
		Example: "  kubectl irsa audit -A\n  kubectl irsa audit -n payments -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.output.validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "audit across all namespaces")
	o.output.addFlags(cmd)
	return cmd
}

// Run audits and prints the report; exit 1 on a high finding.
func (o *AuditOptions) Run(ctx context.Context) error {
	in, namespace, err := o.inspector(ctx, o.allNamespaces)
	if err != nil {
		return err
	}
	cfg, err := o.AWSConfig(ctx)
	if err != nil {
		return err
	}
	clients := irsa.NewAWSClients(cfg)
	caller, err := irsa.WhoAmI(ctx, clients.STS)
	if err != nil {
		return err
	}
	rep, err := in.Audit(ctx, iam.NewFromConfig(cfg), caller, namespace)
	if err != nil {
		return err
	}
	if !o.output.human() {
		if err := o.output.printObject(rep, o.Out); err != nil {
			return err
		}
	} else {
		printAudit(o.Out, rep)
	}
	for _, f := range rep.Findings {
		if f.Severity == doctor.High {
			return &ExitError{Code: 1}
		}
	}
	return nil
}

func printAudit(w io.Writer, r *irsa.AuditReport) {
	fmt.Fprintf(w, "Audited %d roles for %s\n", len(r.Roles), r.Scope)
	if len(r.Findings) == 0 {
		fmt.Fprintln(w, "\nno finding")
	}
	for _, f := range r.Findings {
		fmt.Fprintln(w)
		printFinding(w, f)
	}
	printNotes(w, r.Notes)
}
