package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iac"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/irsa"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/version"
)

// NewCmdRole builds `kubectl irsa role`.
func NewCmdRole(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "role",
		Short: "Manage IAM roles for ServiceAccounts",
	}
	cmd.AddCommand(NewCmdRoleCreate(g))
	return cmd
}

// RoleCreateOptions creates a role (or merges into one) trusted by ServiceAccounts, without annotating them.
type RoleCreateOptions struct {
	*Globals
	output          *outputFlags
	name            string
	serviceAccounts []string
	perms           permissionFlags
	dryRun          bool
	sizeLimit       int

	subjects []string
	policy   string
}

// NewCmdRoleCreate builds `kubectl irsa role create`.
func NewCmdRoleCreate(g *Globals) *cobra.Command {
	o := &RoleCreateOptions{Globals: g, output: newOutputFlags("terraform", "cloudformation")}
	cmd := &cobra.Command{
		Use:   "create NAME --service-account NS/SA[,NS/SA...]",
		Short: "Create an IAM role trusted by ServiceAccounts of this cluster, or print it as Terraform or CloudFormation",
		Long: `Role create writes an IAM role whose trust admits the given ServiceAccounts through the cluster's OIDC
provider (exact StringEquals on sub and aud), merging into an existing role's trust without touching other
statements. With -o terraform or -o cloudformation it prints infrastructure code and writes nothing to AWS.`,
		Example: `  kubectl irsa role create irsa-role --service-account irsa-sample-ns/irsa-test --allow eks:ListClusters
  kubectl irsa role create irsa-role --service-account irsa-sample-ns/irsa-test --allow eks:ListClusters -o terraform`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.serviceAccounts, "service-account", nil, "ServiceAccounts to trust, as NAMESPACE/NAME (comma-separated, required)")
	o.perms.addFlags(f)
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan and write nothing")
	f.IntVar(&o.sizeLimit, "trust-size-limit", trust.DefaultSizeLimit, "IAM trust policy size quota of the account")
	_ = cmd.MarkFlagRequired("service-account")
	o.output.addFlags(cmd)
	return cmd
}

// Complete parses the ServiceAccounts and reads the policy.
func (o *RoleCreateOptions) Complete(args []string) error {
	o.name = args[0]
	for _, s := range o.serviceAccounts {
		ns, name, err := splitNamespaced(s)
		if err != nil {
			return fmt.Errorf("--service-account %w", err)
		}
		if err := irsa.ValidateNamespace(ns); err != nil {
			return err
		}
		if err := irsa.ValidateServiceAccountName(name); err != nil {
			return err
		}
		o.subjects = append(o.subjects, trust.Subject(ns, name))
	}
	actions, file, err := o.perms.read()
	if err != nil {
		return err
	}
	o.policy, err = irsa.PermissionsPolicy(actions, file)
	return err
}

// Validate checks the role name and output format.
func (o *RoleCreateOptions) Validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	return irsa.ValidateRoleName(o.name)
}

// Run creates the role, or renders it.
func (o *RoleCreateOptions) Run(ctx context.Context) error {
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
	provider := trust.NewProvider(caller.Partition, caller.Account, l.Issuer)
	spec := irsa.RoleSpec{
		Name: o.name, Provider: provider, Audience: trust.DefaultAudience, Subjects: o.subjects,
		Policy: o.policy, AttachPolicyARNs: o.perms.attach, TrustSizeLimit: o.sizeLimit, IssuerHostPath: provider.HostPath,
		Description: "IRSA role created by kubectl irsa",
	}
	if f := o.output.format(); f == "terraform" || f == "cloudformation" {
		return o.render(f, spec)
	}
	plan, err := irsa.PlanRole(ctx, l.IAM, spec)
	if err != nil {
		return err
	}
	st, err := irsa.LookupProvider(ctx, l.IAM, caller.Partition, caller.Account, l.Issuer, trust.DefaultAudience)
	if err != nil {
		return err
	}
	res := irsa.NewResult("RoleResult")
	res.Issuer = provider.HostPath
	res.DryRun = o.dryRun
	res.Provider = &irsa.ProviderInfo{ARN: provider.ARN, Exists: st.Exists}
	res.Role = &irsa.RoleInfo{Name: o.name, ARN: plan.ARN, Exists: plan.Exists, Managed: plan.Managed || !plan.Exists}
	res.Actions = plan.Actions()
	res.Unchanged = !plan.Changed()
	if !st.Exists {
		res.Hints = append(res.Hints, "the cluster has no IAM OIDC provider yet, so the role cannot be assumed: run `kubectl irsa provider create`")
	}
	if !o.dryRun && plan.Changed() {
		undo := &irsa.Undo{}
		if err := irsa.ApplyRole(ctx, l.IAM, plan, undo); err != nil {
			return undo.Rollback(context.WithoutCancel(ctx), err)
		}
		for i := range res.Actions {
			if res.Actions[i].Status == irsa.StatusPlanned {
				res.Actions[i].Status = irsa.StatusDone
			}
		}
		res.Role.ARN, res.Role.Exists = plan.ARN, true
	}
	if !o.output.human() {
		return o.output.printObject(res, o.Out)
	}
	if o.dryRun {
		fmt.Fprintln(o.Out, "Plan (dry run: nothing is written):")
	}
	printActions(o.Out, res)
	if res.Role.ARN != "" {
		fmt.Fprintln(o.Out, res.Role.ARN)
	}
	printHints(o.ErrOut, res)
	return nil
}

// render prints the role as Terraform or CloudFormation; nothing is written to AWS.
func (o *RoleCreateOptions) render(format string, spec irsa.RoleSpec) error {
	doc := trust.New()
	doc.AddSubjects(spec.Provider, spec.Audience, spec.Subjects...)
	if err := doc.CheckSize(spec.TrustSizeLimit); err != nil {
		return err
	}
	role := iac.Role{
		Name: spec.Name, TrustPolicy: doc.String(), Policy: spec.Policy, PolicyName: irsa.InlinePolicyName,
		AttachPolicyARNs: spec.AttachPolicyARNs,
		Tags:             map[string]string{irsa.ManagedByTagKey: irsa.ManagedByTagValue, irsa.IssuerTagKey: spec.Provider.HostPath},
		Comment:          fmt.Sprintf("IRSA role %s for %s, generated by kubectl irsa %s", spec.Name, spec.Provider.ARN, version.Version),
	}
	render := iac.Terraform
	if format == "cloudformation" {
		render = iac.CloudFormation
	}
	out, err := render(role)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(o.Out, out)
	return err
}
