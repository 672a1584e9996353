// Package plugin holds the cobra commands of kubectl irsa: one file per subcommand, each with an Options type
// following kubectl's Complete/Validate/Run pattern.
package plugin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/entry"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
)

// Globals are what every subcommand shares: the streams, the global flags and the factory built from them.
type Globals struct {
	genericiooptions.IOStreams
	Flags   *GlobalFlags
	Factory Factory
	// newFactory builds the factory of other global flags (another kubeconfig context: retarget).
	newFactory func(*GlobalFlags) Factory
}

// forContext returns the Globals of another kubeconfig context: the same streams and global flags otherwise, and
// that context's factory.
func (g *Globals) forContext(name string) *Globals {
	flags := g.Flags.forContext(name)
	return &Globals{IOStreams: g.IOStreams, Flags: flags, Factory: g.newFactory(flags), newFactory: g.newFactory}
}

// NewCmdIRSA builds the root command `kubectl irsa` and all its subcommands, with the real clients.
func NewCmdIRSA(streams genericiooptions.IOStreams) *cobra.Command {
	return NewCmdIRSAWithFactory(streams, NewFactory)
}

// NewCmdIRSAWithFactory builds the command tree with the factory newFactory builds from the global flags
// (tests pass plugintest's).
func NewCmdIRSAWithFactory(streams genericiooptions.IOStreams, newFactory func(*GlobalFlags) Factory) *cobra.Command {
	flags := &GlobalFlags{ConfigFlags: genericclioptions.NewConfigFlags(true)}
	g := &Globals{IOStreams: streams, Flags: flags, Factory: newFactory(flags), newFactory: newFactory}
	cmd := &cobra.Command{
		Use:   "irsa",
		Short: "Set up, diagnose, test and audit AWS credentials for EKS pods: IRSA and EKS Pod Identity",
		Long: `kubectl irsa gives pods AWS permissions through IAM Roles for Service Accounts (IRSA) or EKS Pod Identity.

For IRSA it reads the cluster's OIDC issuer from the current kubeconfig context, then creates or merges the IAM
role trust and annotates the ServiceAccount in one idempotent step (link); with --pod-identity it creates the
EKS Pod Identity association and the role trust for pods.eks.amazonaws.com instead. It explains why a pod is
using the node's instance role (doctor), proves end to end that a ServiceAccount can assume its role through
either mechanism (test), lists and audits both, and moves ServiceAccounts from IRSA to Pod Identity (migrate).

AWS access uses the standard SDK configuration: AWS_PROFILE or --aws-profile, SSO, environment credentials,
and the AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_IAM|_STS|_EKS overrides.`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl irsa"},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	flags.addFlags(cmd.PersistentFlags())
	klogFlags := addKlogFlags(cmd)
	cmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		capVerbosity(klogFlags, g.ErrOut)
		return nil
	}

	cmd.AddCommand(
		NewCmdVersion(g),
		NewCmdCompletion(g),
		NewCmdIssuer(g),
		NewCmdProvider(g),
		NewCmdRole(g),
		NewCmdAnnotate(g),
		NewCmdLink(g),
		NewCmdUnlink(g),
		NewCmdLock(g),
		NewCmdMigrate(g),
		NewCmdRetarget(g),
		NewCmdDoctor(g),
		NewCmdTest(g),
		NewCmdList(g),
		NewCmdAudit(g),
		NewCmdTrust(g),
		NewCmdGC(g),
		NewCmdApply(g),
		NewCmdDiff(g),
		NewCmdSchema(g),
		NewCmdExport(g),
	)
	registerCompletions(cmd, g)
	installUsageErrors(cmd)
	return cmd
}

// addKlogFlags exposes klog's -v (not --vmodule, which could bypass the cap below), so -v=6 logs each Kubernetes request as kubectl does.
func addKlogFlags(cmd *cobra.Command) *flag.FlagSet {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	cmd.PersistentFlags().AddGoFlag(fs.Lookup("v"))
	return fs
}

// maxVerbosity caps -v: from level 8 client-go logs request and response bodies, which carry ServiceAccount
// tokens and pod environments, and kubectl irsa never prints a token or a credential.
const maxVerbosity = 7

func capVerbosity(fs *flag.FlagSet, errOut io.Writer) {
	v, err := strconv.Atoi(fs.Lookup("v").Value.String())
	if err == nil && v > maxVerbosity {
		_ = fs.Set("v", strconv.Itoa(maxVerbosity))
		fmt.Fprintf(errOut, "note: -v=%d lowered to %d: higher levels log request and response bodies, which hold tokens and credentials\n", v, maxVerbosity)
	}
}

// ExitError carries a specific exit code; its message, when not empty, is printed as the error line.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// checkCommands follow one exit-code contract: 0 clean or passed, 1 findings or test failed (always an
// *ExitError with code 1), 2 the run could not complete: a usage error, AWS or the cluster unreachable, a read
// that failed. Any other error of theirs is therefore 2. Every command, check or not, exits 2 on a usage error
// and on a kubeconfig that cannot be used.
var checkCommands = map[string]bool{"doctor": true, "audit": true, "test": true, "list": true}

// Execute runs the command and turns its error into one line on stderr (credentials masked, control characters
// escaped) and an exit code.
func Execute(cmd *cobra.Command, streams genericiooptions.IOStreams) int {
	in := &interrupts{exec: &steps.Executor{}, errOut: streams.ErrOut, exit: os.Exit}
	ctx, stop := in.watch(context.Background())
	cmd.SetContext(ctx)
	ran, err := cmd.ExecuteC()
	stop()
	if err == nil {
		return 0
	}
	err = withFlagHint(err, ran)
	code := 1
	if s := in.received(); s != nil {
		code = entry.SignalStatus(s)
		if msg := err.Error(); msg != "" {
			entry.PrintError(streams.ErrOut, msg)
		}
		return code
	}
	var exit *ExitError
	var usage *usageError
	switch {
	case errors.As(err, &usage), errors.Is(err, ErrKubeconfig):
		code = UsageExitCode
	case errors.As(err, &exit):
		code = exit.Code
	case ran != nil && ran.Parent() == cmd && checkCommands[ran.Name()]:
		code = 2
	}
	if msg := err.Error(); msg != "" {
		entry.PrintError(streams.ErrOut, msg)
	}
	return code
}
