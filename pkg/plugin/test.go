package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/report"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// TestOptions proves that a ServiceAccount can assume its role.
type TestOptions struct {
	*Globals
	output    *outputFlags
	timeout   time.Duration
	inCluster bool
	image     string
	keep      bool

	namespace, name string
	command         []string
}

// NewCmdTest builds `kubectl irsa test`.
func NewCmdTest(g *Globals) *cobra.Command {
	o := &TestOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "test SERVICEACCOUNT [-n NAMESPACE] [-- COMMAND [ARGS...]]",
		Short: "Prove end to end that a ServiceAccount can assume its IAM role (IRSA or EKS Pod Identity)",
		Long: `Test gets a real token for the ServiceAccount from the API server (audience sts.amazonaws.com, or the
ServiceAccount's eks.amazonaws.com/audience), evaluates the role's trust policy against the token's claims,
exchanges the token with sts:AssumeRoleWithWebIdentity exactly as the pod's SDK would, and checks the
credentials with GetCallerIdentity. Nothing is deployed and the token is never printed.

When the ServiceAccount has an EKS Pod Identity association (which takes precedence over IRSA), test proves that
instead: a token of audience pods.eks.amazonaws.com (bound to a running pod of the ServiceAccount when there is
one), the trust evaluated for sts:AssumeRole and sts:TagSession, eks-auth:AssumeRoleForPodIdentity, then
GetCallerIdentity; it prints the assumed role and the session tags. If the caller may not call EKS Auth, the
local checks run and the verdict is not-proven (exit 2).

With -- COMMAND, the command runs locally with the role's temporary credentials in its environment and test
exits with its status (SIGINT and SIGTERM are passed on to it). With --in-cluster, a Job runs the AWS CLI as the
ServiceAccount instead.

Exit status: 0 passed, 1 failed (a test reporting an error finding fails), 2 could not complete (usage error,
AWS or the cluster unreachable, a read that failed).`,
		Example: `  kubectl irsa test irsa-test -n irsa-sample-ns
  kubectl irsa test irsa-test -n irsa-sample-ns -- aws eks list-clusters
  kubectl irsa test irsa-test -n irsa-sample-ns --in-cluster`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(cmd, args); err != nil {
				return asUsage(cmd, err)
			}
			if err := o.Validate(); err != nil {
				return asUsage(cmd, err)
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().DurationVar(&o.timeout, "timeout", 30*time.Second, "how long to retry while IAM propagates a new role (2m for --in-cluster)")
	cmd.Flags().BoolVar(&o.inCluster, "in-cluster", false, "run a Job with the AWS CLI as the ServiceAccount and judge its logs")
	cmd.Flags().StringVar(&o.image, "image", "amazon/aws-cli:latest", "image of the --in-cluster Job")
	cmd.Flags().BoolVar(&o.keep, "keep", false, "keep the --in-cluster Job")
	o.Flags.addRoleProfileFlag(cmd.Flags())
	o.output.addFlags(cmd)
	return cmd
}

// Complete splits the ServiceAccount from the command after --.
func (o *TestOptions) Complete(cmd *cobra.Command, args []string) error {
	if dash := cmd.ArgsLenAtDash(); dash >= 0 {
		o.command = args[dash:]
		args = args[:dash]
	}
	if len(args) != 1 {
		return errors.New("give exactly one ServiceAccount (and the command after --)")
	}
	o.name = args[0]
	ns, err := o.Factory.Namespace()
	o.namespace = ns
	if o.inCluster && !cmd.Flags().Changed("timeout") {
		o.timeout = 2 * time.Minute
	}
	return err
}

// Validate checks the output format and the ServiceAccount.
func (o *TestOptions) Validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	return validateServiceAccount(o.namespace, o.name)
}

// Run tests and prints the result; a failed verdict exits 1, and with a command, test exits with its status.
func (o *TestOptions) Run(ctx context.Context) error {
	kube, err := o.Factory.KubeClient()
	if err != nil {
		return err
	}
	if o.inCluster {
		return o.runInCluster(ctx, kube)
	}
	clients, err := o.Factory.AWS(ctx)
	if err != nil {
		return err
	}
	iss, err := o.discoverIssuer(ctx, o.namespace, o.name, false)
	if err != nil {
		return err
	}
	tester := &inspect.Tester{Kube: kube, IAM: clients.IAM, Accounts: inspectAccounts(o.Globals, clients), STS: clients.STS, EKS: clients.EKS, EKSAuth: clients.EKSAuth,
		Issuer: iss.Issuer, Cluster: o.Factory.ClusterRef(), STSEndpoint: stsEndpoint()}
	if f, ok := o.ErrOut.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tester.Progress = func(attempt int, elapsed time.Duration, err error) {
			fmt.Fprintf(o.ErrOut, "\rwaiting for IAM to accept the role (attempt %d, %s): %v ", attempt, elapsed.Round(time.Second), awsapi.Short(err))
		}
	}
	res, err := tester.Test(ctx, o.namespace, o.name, o.timeout)
	if err != nil {
		return err
	}
	if tester.Progress != nil && res.Attempts > 1 {
		fmt.Fprintln(o.ErrOut)
	}
	out := o.Out
	if len(o.command) > 0 {
		out = o.ErrOut // the command owns stdout
	}
	if !o.output.human() {
		if err := o.output.printObject(res, out); err != nil {
			return err
		}
	} else {
		printTestResult(out, res)
	}
	if res.Verdict == inspect.VerdictNotProven {
		return &ExitError{Code: 2, Err: errors.New("not proven end to end: " + res.Reason)}
	}
	if !passed(res) {
		for _, f := range res.Findings {
			if f.Fix != "" {
				return &ExitError{Code: 1, Err: fmt.Errorf("%s: %s (fix: %s)", f.ID, f.Summary, f.Fix)}
			}
		}
		return &ExitError{Code: 1, Err: errors.New(failReason(res))}
	}
	if len(o.command) > 0 {
		return o.runCommand(ctx, res, clients.Region)
	}
	return exitStatus(false, res.CouldNotCheck)
}

// printTestResult shows each step: token claims, each trust condition, STS, the assumed role.
func printTestResult(w io.Writer, r *inspect.TestResult) {
	fmt.Fprintf(w, "ServiceAccount %s/%s -> role %s\n", safetext.String(r.ServiceAccount.Namespace), safetext.String(r.ServiceAccount.Name), safetext.String(orNone(r.RoleARN)))
	if r.Token != nil {
		fmt.Fprintf(w, "token (not shown): iss=%s sub=%s aud=%s\n", safetext.String(r.Token.Issuer), safetext.String(r.Token.Subject), safetext.String(strings.Join(r.Token.Audience, ",")))
	}
	if r.PodIdentity != nil {
		printPodIdentityTest(w, r)
	}
	if r.Trust != nil {
		fmt.Fprintln(w, "trust policy, evaluated locally against the token:")
		for _, st := range relevantStatements(r.Trust) {
			fmt.Fprintf(w, "  statement %d (%s):\n", st.Index, safetext.String(st.Effect))
			fmt.Fprintf(w, "    %s principal names the cluster's OIDC provider\n", mark(st.PrincipalMatch))
			fmt.Fprintf(w, "    %s action covers %s\n", mark(st.ActionMatch), trust.ActionAssumeRoleWithWebIdentity)
			for _, c := range st.Conditions {
				if c.Unknown {
					fmt.Fprintf(w, "    ??   %s %s: expects %s, not known locally\n", safetext.String(c.Operator), safetext.String(c.Key), safetext.String(strings.Join(c.Expected, " | ")))
					continue
				}
				fmt.Fprintf(w, "    %s %s %s: expects %s, token has %q\n", mark(c.Pass), safetext.String(c.Operator), safetext.String(c.Key), safetext.String(strings.Join(c.Expected, " | ")), safetext.String(c.Actual))
			}
		}
		if len(r.Trust.Statements) == 0 {
			fmt.Fprintln(w, "  the trust policy has no statement")
		}
	}
	if r.STS != "" {
		fmt.Fprintf(w, "sts:AssumeRoleWithWebIdentity: %s", safetext.String(r.STS))
		if r.Attempts > 1 {
			fmt.Fprintf(w, " (after %d attempts)", r.Attempts)
		}
		fmt.Fprintln(w)
	}
	if r.AssumedRoleARN != "" {
		fmt.Fprintf(w, "assumed: %s", safetext.String(r.AssumedRoleARN))
		if r.Expiration != nil {
			fmt.Fprintf(w, " (credentials expire %s)", r.Expiration.UTC().Format(time.RFC3339))
		}
		fmt.Fprintln(w)
	}
	for _, f := range r.Findings {
		report.PrintFinding(w, f)
	}
	report.PrintNotes(w, r.Notes, r.CouldNotCheck)
	switch {
	case passed(r):
		fmt.Fprintln(w, "PASS")
	case r.Verdict == inspect.VerdictNotProven:
		fmt.Fprintf(w, "NOT PROVEN: %s\n", safetext.String(r.Reason))
	default:
		fmt.Fprintf(w, "FAIL: %s\n", safetext.String(failReason(r)))
	}
}

// relevantStatements are the statements that match, else those naming the provider, else all.
func relevantStatements(ev *trust.Evaluation) []trust.StatementResult {
	var matching, naming []trust.StatementResult
	for _, s := range ev.Statements {
		if s.Matches {
			matching = append(matching, s)
		}
		if s.PrincipalMatch {
			naming = append(naming, s)
		}
	}
	switch {
	case len(matching) > 0:
		return matching
	case len(naming) > 0:
		return naming
	}
	return ev.Statements
}

func mark(ok bool) string {
	if ok {
		return "ok  "
	}
	return "FAIL"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// runInCluster runs the AWS CLI in a Job as the ServiceAccount and judges its logs.
func (o *TestOptions) runInCluster(ctx context.Context, kube kubernetes.Interface) error {
	sa, err := kube.CoreV1().ServiceAccounts(o.namespace).Get(ctx, o.name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read serviceaccount %s/%s: %w", o.namespace, o.name, err)
	}
	role, err := iamref.ParseRole(strings.TrimSpace(sa.Annotations[iamref.RoleARNAnnotation]))
	if err != nil {
		return fmt.Errorf("serviceaccount %s/%s has no valid %s annotation: run kubectl irsa link %s -n %s first", o.namespace, o.name, iamref.RoleARNAnnotation, o.name, o.namespace)
	}
	run := &inspect.InClusterTest{Kube: kube, Job: inspect.BuildTestJob(o.namespace, o.name, o.image, o.command, time.Now()), Keep: o.keep}
	progress := &jobProgress{out: o.ErrOut, job: run.Job.Namespace + "/" + run.Job.Name, timeout: o.timeout}
	if f, ok := o.ErrOut.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		progress.terminal = true
	}
	run.Progress = progress.tell
	logs, err := run.Run(ctx, o.timeout)
	progress.done()
	if err != nil {
		return err
	}
	verdict, assumed, findings := inspect.JudgeJobLogs(logs, role.Name)
	res := &inspect.TestResult{TypeMeta: api.TypeMeta("TestResult"), RoleARN: role.ARN, AssumedRoleARN: assumed, Verdict: verdict, Findings: findings,
		ServiceAccount: api.ServiceAccountRef{Namespace: o.namespace, Name: o.name, Subject: trust.Subject(o.namespace, o.name)}}
	if !passed(res) {
		res.Reason = "the in-cluster Job did not run as " + role.ARN
	}
	if !o.output.human() {
		if err := o.output.printObject(res, o.Out); err != nil {
			return err
		}
	} else {
		printTestResult(o.Out, res)
	}
	if !passed(res) {
		return &ExitError{Code: 1, Err: errors.New(res.Reason + ": run kubectl irsa doctor " + o.name + " -n " + o.namespace)}
	}
	return nil
}

// jobProgress tells, on stderr, what the in-cluster test waits for: on a terminal one line rewritten every
// poll; elsewhere a line when the pod's phase changes and every 15 s, so a log shows the run is alive.
type jobProgress struct {
	out      io.Writer
	job      string
	timeout  time.Duration
	terminal bool
	phase    string
	last     time.Duration
	told     bool
}

func (p *jobProgress) tell(elapsed time.Duration, phase string) {
	msg := fmt.Sprintf("waiting for test Job %s (pod: %s, %s of at most %s)", p.job, phase, elapsed.Round(time.Second), p.timeout)
	switch {
	case p.terminal:
		fmt.Fprintf(p.out, "\r%s ", msg)
	case phase != p.phase || elapsed-p.last >= 15*time.Second:
		fmt.Fprintln(p.out, msg)
		p.last = elapsed
	default:
		return
	}
	p.phase, p.told = phase, true
}

// done ends a terminal's rewritten line.
func (p *jobProgress) done() {
	if p.terminal && p.told {
		fmt.Fprintln(p.out)
	}
}
