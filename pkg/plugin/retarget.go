package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// RetargetOptions moves roles from an old cluster's issuer to a new cluster's (blue/green upgrades).
type RetargetOptions struct {
	*Globals
	output                 *outputFlags
	lock                   lockFlags
	fromContext, toContext string
	fromEKS, toEKS         string
	timeout                time.Duration
	req                    setup.RetargetRequest
}

// NewCmdRetarget builds `kubectl irsa retarget`.
func NewCmdRetarget(g *Globals) *cobra.Command {
	o := &RetargetOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "retarget --from-context OLD --to-context NEW (ROLE... | -A)",
		Short: "Move roles from an old cluster to a new one (blue/green upgrades): the new issuer's trust, its OIDC provider, the Pod Identity associations",
		Long: `Retarget finds every role whose trust admits the old cluster's OIDC issuer (the roles named, by name or ARN, or
with -A every role of the account, under any path), creates the new cluster's IAM OIDC provider when missing, and
adds the same ServiceAccount subjects for the new issuer (kubectl irsa's statement, one per provider; the trust
size is checked against the quota before any write). Each ServiceAccount that exists on the new cluster is then
proven with kubectl irsa test against it. The old cluster's EKS Pod Identity associations (of the roles in scope;
with -A all of them) are recreated on the new cluster with the same namespace, ServiceAccount, role, target role
and session tags; their trust needs nothing new.

The old subjects stay until --remove-old (in the same run, or a later one): they are then dropped from kubectl
irsa's statements, except for a role whose test on the new cluster failed or could not run, or one of whose
ServiceAccounts is not on the new cluster yet (or not annotated there): its workload still runs on the old one,
so its subjects stay and a hint says which (one annotated with another role there has moved). Statements written by hand are never
changed (a hint names them). The plan is printed first and computed from live state, so a run that was
interrupted is completed by running it again, and a run with nothing left to do writes nothing. Writes take the
per-role Lease in both clusters; a failed step rolls back what the run wrote.

Exit status: 0 done (or nothing to do), 1 a step failed, a trust would not fit, or a test on the new cluster
failed (the old subjects of that role are kept), 2 a read failed (nothing was written) or a test could not be
proven.`,
		Example: `  # Plan the move of every role from the blue cluster to the green one
  kubectl irsa retarget --from-context blue --to-context green -A --dry-run

  # Move two roles, prove them on green, and drop blue's subjects
  kubectl irsa retarget --from-context blue --to-context green app-role arn:aws:iam::123456789012:role/team/worker --remove-old`,
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
	f.StringVar(&o.fromContext, "from-context", "", "kubeconfig context of the old cluster")
	f.StringVar(&o.toContext, "to-context", "", "kubeconfig context of the new cluster")
	f.StringVar(&o.fromEKS, "from-eks-cluster", "", "EKS cluster name of the old context, when the kubeconfig does not tell it")
	f.StringVar(&o.toEKS, "to-eks-cluster", "", "EKS cluster name of the new context, when the kubeconfig does not tell it")
	f.BoolVarP(&o.req.All, "all-roles", "A", false, "every role of the account whose trust admits the old issuer, and every Pod Identity association of the old cluster")
	f.BoolVar(&o.req.RemoveOld, "remove-old", false, "drop the old issuer's subjects once the new issuer admits them, the tests on the new cluster did not fail and every ServiceAccount of the role is there")
	f.BoolVar(&o.req.DryRun, "dry-run", false, "print the plan and write nothing")
	addTrustSizeLimitFlag(f, &o.req.TrustSizeLimit)
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long each test on the new cluster retries while IAM propagates")
	_ = cmd.MarkFlagRequired("from-context")
	_ = cmd.MarkFlagRequired("to-context")
	o.Flags.addRoleProfileFlag(f)
	o.lock.addFlags(f)
	o.output.addFlags(cmd)
	return cmd
}

// Complete takes the roles from the arguments.
func (o *RetargetOptions) Complete(args []string) error {
	o.req.Roles = slices.Clone(args)
	return nil
}

// Validate checks the scope, the contexts and the role references before any call.
func (o *RetargetOptions) Validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	switch {
	case o.req.All && len(o.req.Roles) > 0:
		return errors.New("name roles or pass -A, not both")
	case !o.req.All && len(o.req.Roles) == 0:
		return errors.New("name the roles to retarget (names or ARNs), or pass -A for every role of the account")
	case o.fromContext == o.toContext:
		return errors.New("--from-context and --to-context name the same context")
	}
	for _, r := range o.req.Roles {
		if strings.HasPrefix(r, "arn:") {
			if _, err := iamref.ParseRole(r); err != nil {
				return err
			}
		} else if err := iamref.ValidateRoleName(r); err != nil {
			return err
		}
	}
	return nil
}

// side is one cluster of a retarget: its context's factory, clients, issuer and EKS cluster.
type side struct {
	context string
	// g is the context's Globals (its factory, its flags: the lock and account router of that cluster).
	g       *Globals
	factory Factory
	kube    kubernetes.Interface
	aws     *AWSClients
	issuer  *cluster.IssuerResult
	ref     cluster.Ref
}

// openSide connects to a context: its Kubernetes and AWS clients, its issuer and its EKS cluster name.
func (o *RetargetOptions) openSide(ctx context.Context, name, eksName, flag string) (*side, error) {
	sd := &side{context: name, g: o.forContext(name)}
	sd.factory = sd.g.Factory
	var err error
	if sd.kube, err = sd.factory.KubeClient(); err != nil {
		return nil, err
	}
	if sd.aws, err = sd.factory.AWS(ctx); err != nil {
		return nil, err
	}
	sd.ref = sd.factory.ClusterRef()
	if eksName != "" {
		sd.ref.Name = eksName
	}
	if sd.ref.Name == "" {
		return nil, &ExitError{Code: 2, Err: fmt.Errorf("cannot tell the EKS cluster of context %q (its name is not an EKS cluster ARN and its user runs no aws eks get-token): pass %s NAME", name, flag)}
	}
	d := &cluster.Discovery{Kube: sd.kube, EKS: sd.aws.EKS, Cluster: sd.ref, TokenNamespace: "default", TokenServiceAccount: "default"}
	if sd.issuer, err = d.Discover(ctx); err != nil {
		return nil, fmt.Errorf("context %s: %w", name, err)
	}
	for _, w := range sd.issuer.Warnings {
		fmt.Fprintf(o.ErrOut, "warning: context %s: %s\n", safetext.String(name), safetext.String(w))
	}
	return sd, nil
}

// Run plans, prints the plan, applies it, tests on the new cluster, and with --remove-old drops the old subjects.
func (o *RetargetOptions) Run(ctx context.Context) error {
	from, err := o.openSide(ctx, o.fromContext, o.fromEKS, "--from-eks-cluster")
	if err != nil {
		return err
	}
	to, err := o.openSide(ctx, o.toContext, o.toEKS, "--to-eks-cluster")
	if err != nil {
		return err
	}
	if from.issuer.Issuer == to.issuer.Issuer {
		return &ExitError{Code: 2, Err: fmt.Errorf("contexts %s and %s have the same OIDC issuer %s: nothing to retarget", o.fromContext, o.toContext, from.issuer.HostPath)}
	}
	s := &setup.Setup{Kube: to.kube, IAM: to.aws.IAM, Accounts: setupAccounts(to.g, to.aws), Caller: to.factory.Caller,
		Thumbprint: setup.TLSThumbprint, Exec: executorFrom(ctx), Issuer: to.issuer.Issuer, Quotas: &state.Quotas{}}
	if err := o.lockBoth(ctx, s, from, to); err != nil {
		return err
	}
	r := &setup.Retarget{Setup: s, FromEKS: from.aws.EKS, ToEKS: to.aws.EKS}
	o.req.FromIssuer, o.req.ToIssuer = from.issuer.Issuer, to.issuer.Issuer
	o.req.FromCluster, o.req.ToCluster = from.ref.Name, to.ref.Name
	plan, err := r.PlanRetarget(ctx, o.req)
	if err != nil {
		if errors.Is(err, setup.ErrCouldNotCheck) {
			return &ExitError{Code: 2, Err: err}
		}
		return err
	}
	human := o.output.human()
	if human {
		header := "Plan"
		if o.req.DryRun {
			header = "Plan (dry run: nothing is written)"
		}
		fmt.Fprintf(o.Out, "%s to retarget from %s (%s) to %s (%s):\n", header, safetext.String(o.fromContext), from.issuer.HostPath, safetext.String(o.toContext), to.issuer.HostPath)
		printRetargetActions(o.Out, plan.Result().Actions)
	}
	fail := func(err error) error {
		if human {
			printRetargetActions(o.ErrOut, plan.Result().Actions)
		}
		return err
	}
	if err := plan.Apply(ctx); err != nil {
		return fail(err)
	}
	if ctx.Err() != nil && !o.req.DryRun {
		// Interrupted during the last write: the executor finished it, so the run is whole, not half done.
		if human {
			printRetargetActions(o.ErrOut, plan.Result().Actions)
		}
		return fmt.Errorf("interrupted during the last write, which finished: every write of the plan was made, nothing was tested on %s and the old subjects are kept; re-run to test and finish", o.toContext)
	}
	var failed, unproven []string
	if !o.req.DryRun {
		failed, unproven = o.testOnNew(ctx, plan, s, to)
		for _, rt := range plan.Roles {
			for _, t := range rt.Tests {
				if t.Verdict == inspect.VerdictFail || t.Verdict == inspect.VerdictNotProven {
					plan.Keep(rt.ARN, fmt.Sprintf("test of %s/%s on %s: %s", t.Namespace, t.ServiceAccount, o.toContext, t.Verdict))
					break
				}
				// A workload not yet moved (no ServiceAccount, or no annotation, on the new cluster) still runs on
				// the old one: its subject stays until it moves; one annotated with another role there has moved.
				if t.Verdict == verdictSkipped && !strings.HasPrefix(t.Reason, reasonAnnotatedElsewhere) {
					plan.Keep(rt.ARN, fmt.Sprintf("%s/%s is %s: move it (or unlink it on %s), then re-run", t.Namespace, t.ServiceAccount, t.Reason, o.fromContext))
					break
				}
			}
		}
	}
	if err := plan.ApplyRemove(ctx); err != nil {
		return fail(err)
	}
	res := plan.Result()
	res.From.Context, res.To.Context = o.fromContext, o.toContext
	if len(res.Associations) > 0 && !o.req.DryRun {
		pi := &setup.PodIdentity{Setup: s, EKS: to.aws.EKS, Cluster: to.ref.Name}
		if ok, note := pi.AgentInstalled(ctx); !ok {
			res.Hints = append(res.Hints, note)
		}
	}
	if human {
		o.printResult(res)
	} else if err := o.output.printObject(res, o.Out); err != nil {
		return err
	}
	switch {
	case len(failed) > 0:
		return &ExitError{Code: 1, Err: fmt.Errorf("test failed on %s for %s: run kubectl irsa doctor SERVICEACCOUNT -n NAMESPACE --context %s (the old subjects of these roles are kept)", o.toContext, strings.Join(failed, ", "), o.toContext)}
	case len(unproven) > 0:
		return &ExitError{Code: 2, Err: fmt.Errorf("could not prove on %s: %s (the old subjects of these roles are kept)", o.toContext, strings.Join(unproven, ", "))}
	}
	return nil
}

// lockBoth makes every write take the role's lock. With Leases (one per cluster) it takes the role's Lease in
// both clusters, so runs against either cluster that share the role wait for each other; the cluster whose
// context name sorts first is locked first, so two retargets in opposite directions never hold one Lease each.
// An S3 lock is one lock for every cluster: it is taken once.
func (o *RetargetOptions) lockBoth(ctx context.Context, s *setup.Setup, from, to *side) error {
	if err := o.lock.apply(ctx, to.g, s); err != nil {
		return err
	}
	if v, err := o.lock.chosen(); err != nil || v.s3 != nil {
		return err
	}
	fromSetup := &setup.Setup{Kube: from.kube}
	if err := o.lock.apply(ctx, from.g, fromSetup); err != nil {
		return err
	}
	first, second := s.Lock, fromSetup.Lock
	if from.context < to.context {
		first, second = second, first
	}
	s.Lock = func(ctx context.Context, roleARN string, fn func(context.Context) error) error {
		return first(ctx, roleARN, func(ctx context.Context) error { return second(ctx, roleARN, fn) })
	}
	return nil
}

// retargetTest is one ServiceAccount to test on the new cluster for a role.
type retargetTest struct {
	role *setup.RoleRetarget
	ns   string
	name string
	// podIdentity: an association was recreated for it (its annotation does not matter).
	podIdentity bool
}

// testOnNew runs kubectl irsa test on the new cluster for every ServiceAccount of the roles that exists there
// and uses the role (its annotation, or a recreated association); the others are skipped with the reason. It
// returns the ServiceAccounts that failed and those that could not be proven.
func (o *RetargetOptions) testOnNew(ctx context.Context, plan *setup.RetargetPlan, s *setup.Setup, to *side) (failed, unproven []string) {
	var todo []retargetTest
	for _, rt := range plan.Roles {
		seen := map[string]bool{}
		for _, a := range plan.Associations {
			if a.RoleARN == rt.ARN {
				todo = append(todo, retargetTest{role: rt, ns: a.Namespace, name: a.ServiceAccount, podIdentity: true})
				seen[a.Namespace+"/"+a.ServiceAccount] = true
			}
		}
		for _, g := range rt.Grants {
			for _, sub := range g.Subjects {
				parts := strings.Split(sub, ":")
				if len(parts) != 4 || parts[0] != "system" || parts[1] != "serviceaccount" || seen[parts[2]+"/"+parts[3]] {
					continue
				}
				seen[parts[2]+"/"+parts[3]] = true
				todo = append(todo, retargetTest{role: rt, ns: parts[2], name: parts[3]})
			}
		}
	}
	tester := &inspect.Tester{Kube: to.kube, IAM: to.aws.IAM, Accounts: inspectAccounts(to.g, to.aws), STS: to.aws.STS, EKS: to.aws.EKS, EKSAuth: to.aws.EKSAuth,
		Issuer: to.issuer.Issuer, Cluster: to.ref, STSEndpoint: stsEndpoint()}
	results := make([]api.RetargetTest, len(todo))
	var g errgroup.Group
	g.SetLimit(4)
	for i, t := range todo {
		g.Go(func() error {
			results[i] = o.testOne(ctx, tester, to.kube, t)
			return nil
		})
	}
	_ = g.Wait()
	for i, t := range todo {
		r := results[i]
		t.role.Tests = append(t.role.Tests, r)
		switch r.Verdict {
		case inspect.VerdictFail:
			failed = append(failed, t.ns+"/"+t.name)
		case inspect.VerdictNotProven:
			unproven = append(unproven, t.ns+"/"+t.name+" ("+r.Reason+")")
		}
	}
	return failed, unproven
}

// verdictSkipped: the ServiceAccount was not tested (not on the new cluster, or it does not use the role there).
const verdictSkipped = "skipped"

// reasonAnnotatedElsewhere begins the reason of a ServiceAccount skipped because it uses another role on the new
// cluster: it has moved, so --remove-old does not wait for it.
const reasonAnnotatedElsewhere = "annotated with "

func (o *RetargetOptions) testOne(ctx context.Context, tester *inspect.Tester, kube kubernetes.Interface, t retargetTest) api.RetargetTest {
	out := api.RetargetTest{Namespace: t.ns, ServiceAccount: t.name}
	sa, err := kube.CoreV1().ServiceAccounts(t.ns).Get(ctx, t.name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		out.Verdict, out.Reason = verdictSkipped, "not on the new cluster"
		return out
	case err != nil:
		out.Verdict, out.Reason = inspect.VerdictNotProven, "could not read the ServiceAccount: "+err.Error()
		return out
	}
	if !t.podIdentity {
		switch annotated := strings.TrimSpace(sa.Annotations[iamref.RoleARNAnnotation]); {
		case annotated == "":
			out.Verdict, out.Reason = verdictSkipped, "not annotated "+iamref.RoleARNAnnotation+" on the new cluster"
			return out
		case annotated != t.role.ARN:
			out.Verdict, out.Reason = verdictSkipped, reasonAnnotatedElsewhere+annotated+" on the new cluster"
			return out
		}
	}
	res, err := tester.Test(ctx, t.ns, t.name, o.timeout)
	switch {
	case err != nil:
		out.Verdict, out.Reason = inspect.VerdictNotProven, err.Error()
	case passed(res):
		out.Verdict = inspect.VerdictPass
	case res.Verdict == inspect.VerdictNotProven:
		out.Verdict, out.Reason = inspect.VerdictNotProven, res.Reason
	default:
		out.Verdict, out.Reason = inspect.VerdictFail, failReason(res)
	}
	return out
}

// printRetargetActions prints the plan's actions, with their status once run.
func printRetargetActions(w io.Writer, acts []api.Action) {
	printActions(w, &api.Result{Actions: acts})
}

// printResult prints what was done per role and association, then the hints.
func (o *RetargetOptions) printResult(res *api.RetargetResult) {
	if len(res.Roles) == 0 && len(res.Associations) == 0 {
		fmt.Fprintf(o.Out, "nothing to retarget: no role in scope admits %s\n", safetext.String(trust.HostPath(res.From.Issuer)))
	}
	for _, r := range res.Roles {
		fmt.Fprintf(o.Out, "role %s: %d subject(s) through the old issuer, %d added for the new one", safetext.String(r.Name), len(r.Subjects), len(r.Added))
		if len(r.Removed) > 0 {
			fmt.Fprintf(o.Out, ", %d old removed", len(r.Removed))
		}
		if r.TrustQuota > 0 && r.TrustSize > 0 {
			fmt.Fprintf(o.Out, " (trust %d of %d characters)", r.TrustSize, r.TrustQuota)
		}
		fmt.Fprintln(o.Out)
		for _, t := range r.Tests {
			line := fmt.Sprintf("  test %s/%s on %s: %s", t.Namespace, t.ServiceAccount, res.To.Context, t.Verdict)
			if t.Reason != "" {
				line += " (" + t.Reason + ")"
			}
			fmt.Fprintln(o.Out, safetext.String(line))
		}
	}
	for _, a := range res.Associations {
		fmt.Fprintf(o.Out, "association %s/%s: role %s on %s", safetext.String(a.Namespace), safetext.String(a.ServiceAccount), safetext.String(a.RoleARN), safetext.String(res.To.Context))
		if a.ToID != "" {
			fmt.Fprintf(o.Out, " (%s)", safetext.String(a.ToID))
		}
		fmt.Fprintln(o.Out)
	}
	switch {
	case res.DryRun:
	case res.Unchanged:
		fmt.Fprintln(o.Out, "unchanged: nothing needed writing")
	}
	for _, h := range res.Hints {
		fmt.Fprintf(o.ErrOut, "hint: %s\n", safetext.String(h))
	}
	if res.Provider != nil && res.Provider.Note != "" {
		fmt.Fprintf(o.ErrOut, "note: %s\n", safetext.String(res.Provider.Note))
	}
}

// forContext returns the factory of another kubeconfig context, with the same kubeconfig files, AWS flags and
// credentials; --cluster, --user, --server and --eks-cluster, which describe the current context, are not carried.
func (g *GlobalFlags) forContext(name string) *GlobalFlags {
	cf := genericclioptions.NewConfigFlags(true)
	from := g.ConfigFlags
	cf.KubeConfig, cf.CacheDir, cf.Insecure, cf.Timeout = from.KubeConfig, from.CacheDir, from.Insecure, from.Timeout
	cf.Impersonate, cf.ImpersonateUID, cf.ImpersonateGroup = from.Impersonate, from.ImpersonateUID, from.ImpersonateGroup
	cf.Context = &name
	out := *g
	out.ConfigFlags = cf
	out.EKSCluster = ""
	return &out
}
