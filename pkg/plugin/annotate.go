package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// AnnotateOptions sets a ServiceAccount's role annotation.
type AnnotateOptions struct {
	*Globals
	output  *outputFlags
	roleARN string
	req     setup.AnnotateRequest
}

// NewCmdAnnotate builds `kubectl irsa annotate`.
func NewCmdAnnotate(g *Globals) *cobra.Command {
	o := &AnnotateOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "annotate SERVICEACCOUNT [-n NAMESPACE] --role-arn ARN",
		Short: "Set a ServiceAccount's eks.amazonaws.com/role-arn annotation (no IAM change)",
		Long: `Annotate sets eks.amazonaws.com/role-arn with a merge patch. A different existing value needs --overwrite.
Pods that started before the annotation have no credentials: --restart rolls the workloads using the
ServiceAccount (as kubectl rollout restart does); without it, those pods and the command are listed.
--dry-run prints the change and writes nothing.`,
		Example: `  kubectl irsa annotate irsa-test -n irsa-sample-ns --role-arn arn:aws:iam::123456789012:role/irsa-role --restart
  kubectl irsa annotate irsa-test -n irsa-sample-ns --role-arn arn:aws:iam::123456789012:role/team/irsa-role --dry-run`,
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
	cmd.Flags().StringVar(&o.roleARN, "role-arn", "", "IAM role ARN to annotate the ServiceAccount with (required)")
	cmd.Flags().BoolVar(&o.req.Overwrite, "overwrite", false, "replace a different existing role annotation")
	cmd.Flags().BoolVar(&o.req.Restart, "restart", false, "roll the Deployments, StatefulSets and DaemonSets using the ServiceAccount")
	addDryRunFlag(cmd.Flags(), &o.req.DryRun, "print the change and write nothing")
	_ = cmd.MarkFlagRequired("role-arn")
	o.output.addFlags(cmd)
	return cmd
}

// Complete builds the request from args and flags, the role ARN parsed.
func (o *AnnotateOptions) Complete(args []string) error {
	o.req.ServiceAccount = args[0]
	ns, err := o.Factory.Namespace()
	if err != nil {
		return err
	}
	o.req.Namespace = ns
	if o.req.Role, err = iamref.ParseRole(o.roleARN); err != nil {
		return fmt.Errorf("--role-arn: %w", err)
	}
	return nil
}

// Validate checks the request before any call.
func (o *AnnotateOptions) Validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	return validateServiceAccount(o.req.Namespace, o.req.ServiceAccount)
}

// Run plans and applies the annotation.
func (o *AnnotateOptions) Run(ctx context.Context) error {
	kube, err := o.Factory.KubeClient()
	if err != nil {
		return err
	}
	plan, err := (&setup.Setup{Kube: kube}).PlanAnnotate(ctx, o.req)
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
	printHints(o.ErrOut, res)
	if res.Unchanged {
		fmt.Fprintln(o.Out, "unchanged")
	}
	return nil
}
