package plugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// UnlinkOptions undoes a link for one ServiceAccount.
type UnlinkOptions struct {
	*Globals
	output *outputFlags
	lock   lockFlags
	req    setup.UnlinkRequest
	pi     podIdentityFlags
}

// NewCmdUnlink builds `kubectl irsa unlink`.
func NewCmdUnlink(g *Globals) *cobra.Command {
	o := &UnlinkOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "unlink SERVICEACCOUNT [-n NAMESPACE]",
		Short: "Undo link: the annotation (or --pod-identity association), this ServiceAccount's trust and permissions",
		Long: `Unlink removes the eks.amazonaws.com/role-arn annotation, only this ServiceAccount's subject from the
trust statements kubectl irsa wrote, and only this ServiceAccount's statement from the role's inline policy
kubectl-irsa (the policy is deleted with its last statement); other statements are never touched.
--delete-role also deletes the role, but only when kubectl irsa created it and nothing else is trusted by it.`,
		Example: `  kubectl irsa unlink irsa-test -n irsa-sample-ns
  kubectl irsa unlink irsa-test -n irsa-sample-ns --delete-role --dry-run`,
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
	cmd.Flags().BoolVar(&o.req.DeleteRole, "delete-role", false, "delete the role when kubectl irsa created it and no other subject remains")
	addDryRunFlag(cmd.Flags(), &o.req.DryRun, "print the plan and write nothing")
	o.pi.addUnlinkFlags(cmd.Flags())
	o.Flags.addRoleProfileFlag(cmd.Flags())
	o.lock.addFlags(cmd.Flags())
	o.output.addFlags(cmd)
	return cmd
}

// Complete fills the request from args and flags.
func (o *UnlinkOptions) Complete(args []string) error {
	o.req.ServiceAccount = args[0]
	ns, err := o.Factory.Namespace()
	o.req.Namespace = ns
	return err
}

// Validate checks the request before any call.
func (o *UnlinkOptions) Validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	return validateServiceAccount(o.req.Namespace, o.req.ServiceAccount)
}

// Run plans and applies the unlink.
func (o *UnlinkOptions) Run(ctx context.Context) error {
	if o.pi.enabled {
		return o.runPodIdentity(ctx)
	}
	s, _, err := o.newSetup(ctx, o.req.Namespace)
	if err != nil {
		return err
	}
	if err := o.lock.apply(ctx, o.Globals, s); err != nil {
		return err
	}
	// A Pod Identity association of the ServiceAccount on the same role still needs its permissions statement.
	var unchecked string
	if a, err := o.findAssociation(ctx, s, o.req.Namespace, o.req.ServiceAccount); err != nil {
		unchecked = podIdentityUncheckedUnlinkHint(o.req.Namespace, o.req.ServiceAccount, err)
	} else if a != nil {
		o.req.AssociationID, o.req.AssociationRoleARN = aws.ToString(a.AssociationId), aws.ToString(a.RoleArn)
	}
	plan, err := s.PlanUnlink(ctx, o.req)
	if err != nil {
		return lastSubjectHint(err, o.req.Namespace, o.req.ServiceAccount)
	}
	res, err := applyPlan(ctx, plan, o.output.human(), o.ErrOut)
	if err != nil {
		return err
	}
	if unchecked != "" && removedStatement(res) {
		res.Hints = append(res.Hints, unchecked)
	}
	if !o.output.human() {
		return o.output.printObject(res, o.Out)
	}
	if o.req.DryRun {
		fmt.Fprintln(o.Out, dryRunHeader)
	}
	printActions(o.Out, res)
	switch {
	case res.Unchanged:
		fmt.Fprintf(o.Out, "nothing to do: %s/%s is not linked with IRSA\n", o.req.Namespace, o.req.ServiceAccount)
	case !o.req.DryRun:
		fmt.Fprintf(o.Out, "unlinked %s/%s from %s\n", o.req.Namespace, o.req.ServiceAccount, res.Role.ARN)
	}
	printHints(o.ErrOut, res)
	return nil
}

// removedStatement reports whether the unlink removed a statement of the inline policy kubectl-irsa.
func removedStatement(res *api.Result) bool {
	for _, a := range res.Actions {
		if strings.HasSuffix(a.Resource, "/policy/"+setup.InlinePolicyName) && a.Status == api.StatusDone {
			return true
		}
	}
	return false
}
