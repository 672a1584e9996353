package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/report"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// NewCmdTrust builds `kubectl irsa trust`.
func NewCmdTrust(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "Inspect IAM role trust policies: their size against the account's quota",
	}
	cmd.AddCommand(NewCmdTrustBudget(g))
	return cmd
}

// TrustBudgetOptions reports roles' trust sizes against the account's quota.
type TrustBudgetOptions struct {
	*Globals
	output *outputFlags
	req    inspect.BudgetRequest
}

// NewCmdTrustBudget builds `kubectl irsa trust budget`.
func NewCmdTrustBudget(g *Globals) *cobra.Command {
	o := &TrustBudgetOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "budget [ROLE... | -A]",
		Short: "Show each role's trust policy size against the account's quota, and how many more ServiceAccounts and clusters fit",
		Long: `Trust budget reads the account's trust policy quota (iam:GetAccountSummary AssumeRolePolicySizeQuota; IAM's
default of 2048 with a note when it cannot be read) and each role's trust policy, and shows its size as IAM
counts it (characters without whitespace) broken down by OIDC provider, EKS Pod Identity and other statements,
with the headroom: how many more ServiceAccounts of this cluster fit in the role's statement for this cluster's
provider, and how many more clusters with the same ServiceAccounts fit. It also counts the account's IAM OIDC
providers against their quota. ROLE is a name or an ARN; -A reads every role of the account (every page, every
path) whose trust admits an OIDC provider or EKS Pod Identity. Exit status 1 when a role's trust is over the
quota, 2 when a role could not be read. Read only.`,
		Example: "  kubectl irsa trust budget irsa-role\n  kubectl irsa trust budget -A -o json",
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
	cmd.Flags().BoolVarP(&o.req.All, "all", "A", false, "every role of the account whose trust admits an OIDC provider or EKS Pod Identity")
	addTrustSizeLimitFlag(cmd.Flags(), &o.req.Override)
	o.output.addFlags(cmd)
	return cmd
}

// Complete takes the roles.
func (o *TrustBudgetOptions) Complete(args []string) error {
	o.req.Roles = args
	return nil
}

// Validate checks the roles and the scope.
func (o *TrustBudgetOptions) Validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	if o.req.All == (len(o.req.Roles) > 0) {
		return errors.New("name one or more roles, or pass -A for every role of the account")
	}
	for _, r := range o.req.Roles {
		if _, err := iamref.ParseRole(r); err == nil {
			continue
		}
		if err := iamref.ValidateRoleName(r); err != nil {
			return err
		}
	}
	return nil
}

// Run reads the roles and prints their budgets; exit 1 when a role is over the quota, else 2 when a read failed.
func (o *TrustBudgetOptions) Run(ctx context.Context) error {
	ns, err := o.Factory.Namespace()
	if err != nil {
		return err
	}
	iss, err := o.discoverIssuer(ctx, ns, "default", false)
	if err != nil {
		return err
	}
	caller, err := o.Factory.Caller(ctx)
	if err != nil {
		return err
	}
	clients, err := o.Factory.AWS(ctx)
	if err != nil {
		return err
	}
	o.req.Account = caller.Account
	o.req.Provider = trust.NewProvider(caller.Partition, caller.Account, iss.Issuer)
	o.req.Audience = iamref.DefaultAudience
	rep, err := inspect.TrustBudget(ctx, clients.IAM, o.req)
	if err != nil {
		// exit 1 means a role over its quota: a run that could not read (or find) a role is 2
		return &ExitError{Code: 2, Err: err}
	}
	if !o.output.human() {
		if err := o.output.printObject(rep, o.Out); err != nil {
			return err
		}
	} else {
		printTrustBudget(o.Out, rep)
	}
	over := false
	for _, r := range rep.Roles {
		over = over || r.Headroom < 0
	}
	return exitStatus(over, rep.CouldNotCheck)
}

var quotaSources = map[string]string{
	"account":  "the account's quota, from iam:GetAccountSummary",
	"default":  "IAM's default: the account's quota could not be read",
	"override": "given with --trust-size-limit",
}

func printTrustBudget(w io.Writer, r *inspect.TrustBudgetReport) {
	fmt.Fprintf(w, "Trust policy quota: %d characters without whitespace (%s)\n", r.Quota, quotaSources[r.QuotaSource])
	if r.Providers.Count >= 0 {
		fmt.Fprintf(w, "IAM OIDC providers: %d of %d (%s)\n", r.Providers.Count, r.Providers.Quota, providerQuotaSource(r.Providers.QuotaSource))
	}
	fmt.Fprintf(w, "Headroom counted for this cluster's issuer %s\n\n", safetext.String(r.Issuer))
	if len(r.Roles) == 0 {
		fmt.Fprintln(w, "no role")
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tSIZE\tUSED\tPROVIDERS\tPOD IDENTITY\tOTHER\tSERVICEACCOUNTS THAT FIT\tCLUSTERS THAT FIT")
	for _, b := range r.Roles {
		prov := 0
		for _, p := range b.Providers {
			prov += p.Size
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%d%%\t%d (%d)\t%d\t%d\t%s\t%s\n", safetext.Short(b.Name, 64), b.Size, b.Quota, b.Percent,
			prov, len(b.Providers), b.PodIdentity, b.Foreign, fitCell(b.ServiceAccountsThatFit), fitCell(b.ClustersThatFit))
	}
	_ = tw.Flush()
	for _, b := range r.Roles {
		for _, p := range b.Providers {
			mark := ""
			if p.ThisCluster {
				mark = " (this cluster)"
			}
			fmt.Fprintf(w, "  %s: %s %d characters in %d statement(s)%s\n", safetext.Short(b.Name, 64), safetext.String(p.ARN), p.Size, p.Statements, mark)
		}
		if b.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", safetext.Short(b.Name, 64), safetext.String(b.Note))
		}
		if b.Headroom < 0 {
			fmt.Fprintf(w, "  %s: over the quota by %d characters: request a quota increase (Service Quotas, IAM \"Role trust policy length\"), move its ServiceAccounts to EKS Pod Identity (kubectl irsa migrate), or split the role\n", safetext.Short(b.Name, 64), -b.Headroom)
		}
	}
	report.PrintNotes(w, r.Notes, r.CouldNotCheck)
}

func providerQuotaSource(s string) string {
	if s == "account" {
		return "the account's quota"
	}
	return "IAM's default quota"
}

// fitCell prints a headroom count: "-" when not counted, "any" when a wildcard admits them already.
func fitCell(n *int) string {
	switch {
	case n == nil:
		return "-"
	case *n < 0:
		return "any (wildcard)"
	}
	return strconv.Itoa(*n)
}
