package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// GCOptions finds and deletes what deleted clusters left behind.
type GCOptions struct {
	*Globals
	output *outputFlags
	lock   lockFlags
	req    setup.GCRequest
}

// NewCmdGC builds `kubectl irsa gc`.
func NewCmdGC(g *Globals) *cobra.Command {
	o := &GCOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "gc [--region R...] [--confirm] [--include-foreign]",
		Short: "Find and delete the IAM OIDC providers, trust statements and roles that deleted clusters left behind",
		Long: `Gc lists the account's IAM OIDC providers, the EKS clusters of the given regions (every page) and every
role, and finds: providers whose issuer matches no EKS cluster of those regions and no kubeconfig context whose API
server answers; trust statements naming such a provider, or a provider that no longer exists; roles kubectl irsa
created that would be left with no subject and that no EKS Pod Identity association uses. It prints the plan and
deletes only with --confirm, through the same executor as link (role locks, trust read-merge-write, read back,
roll back of the trust changes when a step fails): only what carries kubectl irsa's tag unless --include-foreign,
and a provider only when no trust still names it (checked again just before deleting it). A provider of an EKS
issuer in a region not listed is not judged, nor, ever, a provider whose issuer is not an EKS cluster's (GitHub
Actions, GitLab, a self-managed cluster): nothing can show that it is gone. A read that fails (a region's clusters,
a provider's tags, a role, the associations) holds back everything it concerns and makes the exit status 2.`,
		Example: `  # What would be collected in us-east-1 and eu-west-1
  kubectl irsa gc --region us-east-1 --region eu-west-1

  # Delete it
  kubectl irsa gc --region us-east-1 --confirm`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Complete()
			if err := o.Validate(); err != nil {
				return asUsage(cmd, err)
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.req.Regions, "region", nil, "region whose EKS clusters are listed (repeatable; default: the AWS config's region)")
	f.BoolVar(&o.req.Confirm, "confirm", false, "delete what the plan lists (without it, nothing is written)")
	f.BoolVar(&o.req.IncludeForeign, "include-foreign", false, "also delete providers and clean roles kubectl irsa did not create (no kubectl-irsa.io/managed-by tag)")
	o.lock.addFlags(f)
	o.output.addFlags(cmd)
	return cmd
}

// regionName is the shape of an AWS region name (us-east-1, cn-north-1, us-gov-west-1).
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// Complete makes the first --region the AWS clients' region when none is set otherwise: gc's repeatable --region
// takes the place of the global flag, which would leave a machine without a configured region unable to start.
func (o *GCOptions) Complete() {
	if o.Flags.Region == "" && len(o.req.Regions) > 0 {
		o.Flags.Region = o.req.Regions[0]
	}
}

// Validate checks the output format and the regions.
func (o *GCOptions) Validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	for _, r := range o.req.Regions {
		if !regionName.MatchString(r) {
			return fmt.Errorf("--region %q is not an AWS region name", r)
		}
	}
	return nil
}

// Run reads, plans, prints the plan and applies it when confirmed; exit 2 when a read failed.
func (o *GCOptions) Run(ctx context.Context) error {
	s, err := o.setupClients(ctx)
	if err != nil {
		return err
	}
	if err := o.lock.apply(ctx, o.Globals, s); err != nil {
		return err
	}
	clients, err := o.Factory.AWS(ctx)
	if err != nil {
		return err
	}
	if len(o.req.Regions) == 0 {
		if clients.Region == "" {
			return errors.New("no AWS region configured: pass --region")
		}
		o.req.Regions = []string{clients.Region}
	}
	o.req.LiveIssuers = o.contextIssuers(ctx)
	plan, err := s.PlanGC(ctx, clients.IAM, clients.EKS, o.req)
	if err != nil {
		return err
	}
	human := o.output.human()
	if human {
		header := "Plan (nothing is deleted without --confirm):"
		if o.req.Confirm {
			header = "Plan:"
		}
		fmt.Fprintln(o.Out, header)
		printActions(o.Out, plan.Result())
	}
	res, err := applyPlan(ctx, plan, human, o.ErrOut)
	if err != nil {
		return err
	}
	if !human {
		if err := o.output.printObject(res, o.Out); err != nil {
			return err
		}
	} else {
		printGC(o.Out, o.ErrOut, res, o.req.Confirm)
	}
	return exitStatus(false, res.CouldNotCheck)
}

func printGC(out, errOut io.Writer, res *api.Result, confirmed bool) {
	switch {
	case res.Unchanged:
		fmt.Fprintln(out, "nothing to collect")
	case confirmed:
		n := 0
		for _, a := range res.Actions {
			if a.Status == api.StatusDone {
				n++
			}
		}
		fmt.Fprintf(out, "collected: %d change(s) made\n", n)
	default:
		fmt.Fprintln(out, "re-run with --confirm to delete it")
	}
	for _, h := range res.Hints {
		fmt.Fprintf(errOut, "note: %s\n", safetext.String(h))
	}
	for _, c := range res.CouldNotCheck {
		fmt.Fprintf(errOut, "note: %s\n", safetext.String(c))
	}
}

// contextProbeTimeout bounds the read of one kubeconfig context's issuer (a deleted cluster's does not answer).
const contextProbeTimeout = 5 * time.Second

// contextIssuers reads the issuer of every kubeconfig context from its API server's discovery document (in
// parallel, each bounded by contextProbeTimeout). A context that does not answer is left out: an EKS cluster's
// issuer is judged from EKS's listing, and a provider of any other issuer is never judged.
func (o *GCOptions) contextIssuers(ctx context.Context) (live []string) {
	raw, err := o.Flags.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil
	}
	type answer struct{ issuer string }
	answers := make(chan answer, len(raw.Contexts))
	for name := range raw.Contexts {
		go func() {
			var a answer
			cfg, err := clientcmd.NewNonInteractiveClientConfig(raw, name, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
			if err == nil {
				cfg.Timeout = contextProbeTimeout
				var kube kubernetes.Interface
				if kube, err = kubernetes.NewForConfig(cfg); err == nil {
					pctx, cancel := context.WithTimeout(ctx, contextProbeTimeout)
					a.issuer, _ = cluster.APIServerIssuer(pctx, kube)
					cancel()
				}
			}
			answers <- a
		}()
	}
	for range raw.Contexts {
		if a := <-answers; a.issuer != "" {
			live = append(live, a.issuer)
		}
	}
	sort.Strings(live)
	return live
}
