package plugin

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// LinkOptions links a ServiceAccount to an IAM role in one idempotent step.
type LinkOptions struct {
	*Globals
	output  *outputFlags
	lock    lockFlags
	perms   permissionFlags
	roleARN string
	req     setup.LinkRequest
	pi      podIdentityFlags
}

// NewCmdLink builds `kubectl irsa link`.
func NewCmdLink(g *Globals) *cobra.Command {
	o := &LinkOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "link SERVICEACCOUNT [-n NAMESPACE]",
		Short: "Give a ServiceAccount an IAM role in one step: IRSA (provider, trust, annotation) or --pod-identity (association)",
		Long: `Link creates the cluster's IAM OIDC provider when missing, creates the role or merges this ServiceAccount
into its trust (exact StringEquals on sub and aud; statements of others are never changed), writes the
permissions as this ServiceAccount's own statement of the role's inline policy kubectl-irsa (the statements of
other ServiceAccounts sharing the role are kept), and annotates the ServiceAccount. Everything is validated
and planned before the first write; a failed step rolls back what this run changed. Running it again changes
nothing. It warns when the ServiceAccount has an EKS Pod Identity association, which takes precedence.`,
		Example: `  # The seed scenario: let pods of irsa-sample-ns/irsa-test list EKS clusters
  kubectl irsa link irsa-test -n irsa-sample-ns --role-name irsa-role --allow eks:ListClusters

  # Add a second ServiceAccount to the same role, and restart its pods
  kubectl irsa link worker -n team-b --role-name irsa-role --restart

  # Show the plan only
  kubectl irsa link irsa-test -n irsa-sample-ns --allow s3:GetObject --dry-run`,
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
	f.StringVar(&o.req.RoleName, "role-name", "", "IAM role to create or merge into (default: irsa-CLUSTER-NAMESPACE-SA)")
	f.StringVar(&o.roleARN, "role-arn", "", "existing IAM role to merge into, by ARN")
	o.perms.addFlags(f)
	f.BoolVar(&o.req.CreateServiceAccount, "create-service-account", false, "create the ServiceAccount when it does not exist")
	f.BoolVar(&o.req.Overwrite, "overwrite", false, "replace a different existing role annotation")
	f.BoolVar(&o.req.Restart, "restart", false, "roll the Deployments, StatefulSets and DaemonSets using the ServiceAccount")
	f.BoolVar(&o.req.NoCreateProvider, "no-create-provider", false, "fail instead of creating a missing IAM OIDC provider")
	addDryRunFlag(f, &o.req.DryRun, "print the plan and write nothing")
	addTrustSizeLimitFlag(f, &o.req.TrustSizeLimit)
	o.pi.addLinkFlags(f)
	o.Flags.addRoleProfileFlag(cmd.Flags())
	o.lock.addFlags(cmd.Flags())
	o.output.addFlags(cmd)
	return cmd
}

// Complete builds the request from args and flags: the role ARN parsed, the permissions read once.
func (o *LinkOptions) Complete(args []string) error {
	o.req.ServiceAccount = args[0]
	ns, err := o.Factory.Namespace()
	if err != nil {
		return err
	}
	o.req.Namespace = ns
	if o.roleARN != "" {
		role, err := iamref.ParseRole(o.roleARN)
		if err != nil {
			return fmt.Errorf("--role-arn: %w", err)
		}
		o.req.RoleARN = &role
	}
	o.req.Permissions, err = o.perms.complete()
	return err
}

// Validate checks the request before any call.
func (o *LinkOptions) Validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	if err := validateServiceAccount(o.req.Namespace, o.req.ServiceAccount); err != nil {
		return err
	}
	if o.req.RoleName != "" && o.req.RoleARN != nil {
		return errors.New("use --role-name or --role-arn, not both")
	}
	if err := o.pi.validateLink(o.req.CreateServiceAccount, o.req.NoCreateProvider); err != nil {
		return err
	}
	if o.req.RoleName != "" {
		return iamref.ValidateRoleName(o.req.RoleName)
	}
	return nil
}

// Run plans, prints the plan, and applies it.
func (o *LinkOptions) Run(ctx context.Context) error {
	if o.pi.enabled {
		return o.runPodIdentity(ctx)
	}
	s, iss, err := o.newSetup(ctx, o.req.Namespace)
	if err != nil {
		return err
	}
	if err := o.lock.apply(ctx, o.Globals, s); err != nil {
		return err
	}
	o.req.ClusterName = o.Factory.ClusterRef().Name
	if o.req.RoleARN == nil {
		// A role named by --role-name lives in (or is created in) --role-profile's account.
		if o.req.RoleAccount, err = o.Factory.RoleProfileAccount(ctx); err != nil {
			return err
		}
	}
	plan, err := s.PlanLink(ctx, o.req)
	if err != nil {
		return err
	}
	human := o.output.human()
	if human {
		header := "Plan"
		if o.req.DryRun {
			header = "Plan (dry run: nothing is written)"
		}
		fmt.Fprintf(o.Out, "%s for %s on issuer %s:\n", header, trust.Subject(o.req.Namespace, o.req.ServiceAccount), iss.HostPath)
		printActions(o.Out, plan.Result())
	}
	res, err := applyPlan(ctx, plan, human, o.ErrOut)
	if err != nil {
		return err
	}
	if w := o.podIdentityWarning(ctx, s, res.Role.Name); w != "" {
		res.Hints = append(res.Hints, w)
		if !human {
			fmt.Fprintf(o.ErrOut, "hint: %s\n", safetext.String(w))
		}
	}
	if !human {
		return o.output.printObject(res, o.Out)
	}
	switch {
	case o.req.DryRun:
	case res.Unchanged:
		fmt.Fprintf(o.Out, "unchanged: %s/%s already linked to %s\n", o.req.Namespace, o.req.ServiceAccount, res.Role.ARN)
	default:
		fmt.Fprintf(o.Out, "linked %s/%s to %s\n", o.req.Namespace, o.req.ServiceAccount, res.Role.ARN)
	}
	printHints(o.ErrOut, res)
	return nil
}

// podIdentityWarning looks up the ServiceAccount's EKS Pod Identity association (one filtered list, one describe
// when there is one): Pod Identity takes precedence over IRSA, so the linked role is not used while it exists.
// It returns the warning ("" when there is none, or when the EKS cluster is unknown: no association can
// exist); a failed lookup is a warning that it could not be checked, never an error of the link.
func (o *LinkOptions) podIdentityWarning(ctx context.Context, s *setup.Setup, roleName string) string {
	a, err := o.findAssociation(ctx, s, o.req.Namespace, o.req.ServiceAccount)
	switch {
	case err != nil:
		return podIdentityUncheckedHint(o.req.Namespace, o.req.ServiceAccount, err)
	case a == nil:
		return ""
	}
	return podIdentityShadowsHint(o.req.Namespace, o.req.ServiceAccount, roleName, aws.ToString(a.AssociationId), aws.ToString(a.RoleArn))
}

// findAssociation returns the ServiceAccount's EKS Pod Identity association (nil when none, or when the EKS
// cluster is unknown).
func (g *Globals) findAssociation(ctx context.Context, s *setup.Setup, namespace, name string) (*ekstypes.PodIdentityAssociation, error) {
	cluster := g.Factory.ClusterRef().Name
	if cluster == "" {
		return nil, nil
	}
	clients, err := g.Factory.AWS(ctx)
	if err != nil {
		return nil, err
	}
	p := &setup.PodIdentity{Setup: s, EKS: clients.EKS, Cluster: cluster}
	return p.FindAssociation(ctx, namespace, name)
}
