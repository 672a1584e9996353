package plugin

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/report"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
)

// AuditOptions audits IRSA roles for dangerous trust and permissions.
type AuditOptions struct {
	*Globals
	output *outputFlags
	scope  scopeFlags
}

// NewCmdAudit builds `kubectl irsa audit`.
func NewCmdAudit(g *Globals) *cobra.Command {
	o := &AuditOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "audit [-n NAMESPACE | -A]",
		Short: "Find dangerous trust policies of IRSA and Pod Identity roles: wildcard or missing sub, missing aud, admin roles",
		Long: `Audit checks every role a ServiceAccount in scope references, and every role of the account whose trust names
this cluster's OIDC provider: StringLike wildcards on sub (every matching ServiceAccount can take the role),
missing sub or aud conditions, an issuer URL as principal, subjects whose ServiceAccount does not exist (whoever
creates it first gets the role), roles trusted by several clusters, administrator-equivalent permissions on a
role in use ("*", iam:*, sts:*, organizations:*, an action that writes IAM policies, creates access keys or passes
roles, or Allow with NotAction, on every resource; AdministratorAccess, IAMFullAccess, PowerUserAccess), and annotations pointing at another account without a provider. Exit status 1 when any finding is
high, 2 when none is but a role or policy could not be read, and 2 for a usage error or AWS or the cluster
unreachable. Read only.`,
		Example: "  kubectl irsa audit -A\n  kubectl irsa audit -n payments -o json",
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
	o.scope.addFlags(cmd, "audit across all namespaces")
	o.Flags.addRoleProfileFlag(cmd.Flags())
	o.output.addFlags(cmd)
	return cmd
}

// Complete resolves the scope.
func (o *AuditOptions) Complete() error { return o.scope.complete(o.Factory) }

// Validate checks the output format.
func (o *AuditOptions) Validate() error { return o.output.validate() }

// Run audits and prints the report; exit 1 on a high finding, else 2 when a read failed.
func (o *AuditOptions) Run(ctx context.Context) error {
	in, err := o.inspector(ctx, true)
	if err != nil {
		return err
	}
	caller, err := o.Factory.Caller(ctx)
	if err != nil {
		return err
	}
	rep, err := in.Audit(ctx, caller, o.scope.namespace)
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
	high := slices.ContainsFunc(rep.Findings, func(f doctor.Finding) bool { return f.Severity == doctor.High })
	return exitStatus(high, rep.CouldNotCheck)
}

func printAudit(w io.Writer, r *inspect.AuditReport) {
	fmt.Fprintf(w, "Audited %d roles for %s\n", len(r.Roles), safetext.String(r.Scope))
	if len(r.Findings) == 0 {
		fmt.Fprintln(w, "\nno finding")
	}
	for _, f := range r.Findings {
		fmt.Fprintln(w)
		report.PrintFinding(w, f)
	}
	report.PrintNotes(w, r.Notes, r.CouldNotCheck)
}
