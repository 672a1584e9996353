package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/irsa"
)

// AnnotateOptions sets a ServiceAccount's role annotation.
type AnnotateOptions struct {
	*Globals
	output *outputFlags
	req    irsa.AnnotateRequest
}

// NewCmdAnnotate builds `kubectl irsa annotate`.
func NewCmdAnnotate(g *Globals) *cobra.Command {
	o := &AnnotateOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "annotate SERVICEACCOUNT [-n NAMESPACE] --role-arn ARN",
		Short: "Set a ServiceAccount's eks.amazonaws.com/role-arn annotation (no IAM change)",
		Long: `Annotate sets eks.amazonaws.com/role-arn with a merge patch. A different existing value needs --overwrite.
Pods that started before the annotation have no credentials: --restart rolls the workloads using the
ServiceAccount (as kubectl rollout restart does); without it, those pods and the command are listed.`,
		Example: `  kubectl irsa annotate irsa-test -n irsa-sample-ns --role-arn arn:aws:iam::123456789012:role/irsa-role --restart`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.output.validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.req.RoleARN, "role-arn", "", "IAM role ARN to annotate the ServiceAccount with (required)")
	cmd.Flags().BoolVar(&o.req.Overwrite, "overwrite", false, "replace a different existing role annotation")
	cmd.Flags().BoolVar(&o.req.Restart, "restart", false, "roll the Deployments, StatefulSets and DaemonSets using the ServiceAccount")
	_ = cmd.MarkFlagRequired("role-arn")
	o.output.addFlags(cmd)
	return cmd
}

// Complete fills the request from args and flags.
func (o *AnnotateOptions) Complete(args []string) error {
	o.req.ServiceAccount = args[0]
	ns, err := o.Namespace()
	o.req.Namespace = ns
	return err
}

// Run annotates.
func (o *AnnotateOptions) Run(ctx context.Context) error {
	kube, _, err := o.KubeClient()
	if err != nil {
		return err
	}
	res, err := irsa.Annotate(ctx, kube, o.req, time.Now())
	if err != nil {
		return err
	}
	if !o.output.human() {
		return o.output.printObject(res, o.Out)
	}
	printActions(o.Out, res)
	printHints(o.ErrOut, res)
	if res.Unchanged {
		fmt.Fprintln(o.Out, "unchanged")
	}
	return nil
}
