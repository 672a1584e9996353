package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iac"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
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
	lock            lockFlags
	serviceAccounts []string
	perms           permissionFlags
	req             setup.RoleRequest
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
				return asUsage(cmd, err)
			}
			if err := o.Validate(); err != nil {
				return asUsage(cmd, err)
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.serviceAccounts, "service-account", nil, "ServiceAccounts to trust, as NAMESPACE/NAME (comma-separated, required)")
	o.perms.addFlags(f)
	addDryRunFlag(f, &o.req.DryRun, "print the plan and write nothing")
	addTrustSizeLimitFlag(f, &o.req.TrustSizeLimit)
	_ = cmd.MarkFlagRequired("service-account")
	o.lock.addFlags(cmd.Flags())
	o.output.addFlags(cmd)
	return cmd
}

// Complete parses the ServiceAccounts and reads the permissions once.
func (o *RoleCreateOptions) Complete(args []string) error {
	o.req.Name = args[0]
	for _, s := range o.serviceAccounts {
		ns, name, err := splitNamespaced(s)
		if err != nil {
			return fmt.Errorf("--service-account %w", err)
		}
		if err := validateServiceAccount(ns, name); err != nil {
			return fmt.Errorf("--service-account: %w", err)
		}
		o.req.Subjects = append(o.req.Subjects, trust.Subject(ns, name))
	}
	var err error
	o.req.Permissions, err = o.perms.complete()
	return err
}

// Validate checks the role name and output format.
func (o *RoleCreateOptions) Validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	return iamref.ValidateRoleName(o.req.Name)
}

// Run creates the role, or renders it.
func (o *RoleCreateOptions) Run(ctx context.Context) error {
	ns, err := o.Factory.Namespace()
	if err != nil {
		return err
	}
	s, _, err := o.newSetup(ctx, ns)
	if err != nil {
		return err
	}
	if err := o.lock.apply(ctx, o.Globals, s); err != nil {
		return err
	}
	if f := o.output.format(); f == "terraform" || f == "cloudformation" {
		spec, err := s.RoleSpec(ctx, o.req)
		if err != nil {
			return err
		}
		return o.render(ctx, s, f, spec)
	}
	plan, err := s.PlanRoleCreate(ctx, o.req)
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
	if o.req.DryRun {
		fmt.Fprintln(o.Out, dryRunHeader)
	}
	printActions(o.Out, res)
	if res.Role.ARN != "" {
		fmt.Fprintln(o.Out, res.Role.ARN)
	}
	printHints(o.ErrOut, res)
	return nil
}

// render prints the role as Terraform or CloudFormation; nothing is written to AWS.
func (o *RoleCreateOptions) render(ctx context.Context, s *setup.Setup, format string, spec setup.RoleSpec) error {
	doc := trust.New()
	doc.AddSubjects(spec.Provider, spec.Audience, spec.Subjects...)
	caller, err := o.Factory.Caller(ctx)
	if err != nil {
		return err
	}
	if _, err := s.CheckTrustInQuota(ctx, caller.Account, o.req.TrustSizeLimit, spec.Name, doc); err != nil {
		return err
	}
	var attach []string
	for _, a := range spec.Permissions.Attach {
		attach = append(attach, a.ARN)
	}
	// The statements carry the Sid role create writes, so applying the code and then role create change nothing.
	policy, err := spec.Permissions.OwnedDocument(setup.RoleCreateSid)
	if err != nil {
		return err
	}
	role := iac.Role{
		Name: spec.Name, TrustPolicy: doc.String(), Policy: policy, PolicyName: setup.InlinePolicyName,
		AttachPolicyARNs: attach,
		Tags:             map[string]string{setup.ManagedByTagKey: setup.ManagedByTagValue, setup.IssuerTagKey: spec.Provider.HostPath},
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
