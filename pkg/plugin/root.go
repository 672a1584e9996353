// Package plugin holds the cobra commands of kubectl irsa: one file per subcommand, each with an Options type
// following kubectl's Complete/Validate/Run pattern.
package plugin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/irsa"
)

// Globals are the flags and streams every subcommand shares.
type Globals struct {
	genericiooptions.IOStreams
	ConfigFlags *genericclioptions.ConfigFlags

	// AWSProfile selects a shared config profile (as AWS_PROFILE does).
	AWSProfile string
	// Region overrides the AWS region; by default it comes from the AWS config or the EKS context name.
	Region string
	// EKSCluster names the EKS cluster when the kubeconfig does not tell it.
	EKSCluster string
}

// NewCmdIRSA builds the root command `kubectl irsa` and all its subcommands.
func NewCmdIRSA(streams genericiooptions.IOStreams) *cobra.Command {
	g := &Globals{IOStreams: streams, ConfigFlags: genericclioptions.NewConfigFlags(true)}
	cmd := &cobra.Command{
		Use:   "irsa",
		Short: "Set up, diagnose and test IAM Roles for Service Accounts (IRSA) on EKS",
		Long: `kubectl irsa gives pods AWS permissions through IAM Roles for Service Accounts (IRSA).

It reads the cluster's OIDC issuer from the current kubeconfig context, then creates or merges the IAM role
trust and annotates the ServiceAccount in one idempotent step (link), explains why a pod is using the node's
instance role instead (doctor), and proves end to end that a ServiceAccount can assume its role (test).

AWS access uses the standard SDK configuration: AWS_PROFILE or --aws-profile, SSO, environment credentials,
and the AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_IAM|_STS|_EKS overrides.`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl irsa"},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	flags := cmd.PersistentFlags()
	g.ConfigFlags.AddFlags(flags)
	flags.StringVar(&g.AWSProfile, "aws-profile", "", "AWS shared config profile to use (default: AWS_PROFILE or the default profile)")
	flags.StringVar(&g.Region, "region", "", "AWS region (default: from the AWS config, else from the EKS context name)")
	flags.StringVar(&g.EKSCluster, "eks-cluster", "", "EKS cluster name, when the kubeconfig context does not name it")
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
		NewCmdDoctor(g),
		NewCmdTest(g),
		NewCmdList(g),
		NewCmdAudit(g),
	)
	registerCompletions(cmd, g)
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

// Execute runs the command and turns its error into one line on stderr and an exit code.
func Execute(cmd *cobra.Command, streams genericiooptions.IOStreams) int {
	err := cmd.Execute()
	if err == nil {
		return 0
	}
	code := 1
	var exit *ExitError
	if errors.As(err, &exit) {
		code = exit.Code
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(streams.ErrOut, "error: %s\n", oneLine(msg))
	}
	return code
}

// oneLine folds a multi-line message so every error is one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// KubeClient returns a clientset and REST config for the current kubeconfig context.
func (g *Globals) KubeClient() (kubernetes.Interface, *rest.Config, error) {
	restConfig, err := g.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot load kubeconfig: %w (set KUBECONFIG or --kubeconfig, or run `aws eks update-kubeconfig --name CLUSTER`)", err)
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot create Kubernetes client: %w", err)
	}
	return client, restConfig, nil
}

// Namespace returns the namespace from -n or the kubeconfig context.
func (g *Globals) Namespace() (string, error) {
	ns, _, err := g.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("cannot read the namespace from kubeconfig: %w", err)
	}
	return ns, nil
}

// ClusterRef describes what the kubeconfig says about the EKS cluster behind the current context.
func (g *Globals) ClusterRef() irsa.ClusterRef {
	ref := irsa.ClusterRef{Name: g.EKSCluster, Region: g.Region}
	raw, err := g.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return ref
	}
	contextName := raw.CurrentContext
	if g.ConfigFlags.Context != nil && *g.ConfigFlags.Context != "" {
		contextName = *g.ConfigFlags.Context
	}
	kctx := raw.Contexts[contextName]
	if kctx == nil {
		return ref
	}
	clusterName := kctx.Cluster
	if g.ConfigFlags.ClusterName != nil && *g.ConfigFlags.ClusterName != "" {
		clusterName = *g.ConfigFlags.ClusterName
	}
	var execArgs []string
	if user := raw.AuthInfos[kctx.AuthInfo]; user != nil && user.Exec != nil {
		execArgs = append([]string{user.Exec.Command}, user.Exec.Args...)
	}
	return irsa.ResolveClusterRef(ref, contextName, clusterName, execArgs)
}

// AWSConfig loads the AWS configuration through the SDK's default chain, honouring --aws-profile and --region,
// and falling back to the region of the EKS cluster named by the kubeconfig.
func (g *Globals) AWSConfig(ctx context.Context) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if g.AWSProfile != "" {
		opts = append(opts, config.WithSharedConfigProfile(g.AWSProfile))
	}
	if g.Region != "" {
		opts = append(opts, config.WithRegion(g.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("cannot load AWS configuration: %w (check AWS_PROFILE/--aws-profile and ~/.aws/config)", err)
	}
	if cfg.Region == "" {
		cfg.Region = g.ClusterRef().Region
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set --region or AWS_REGION")
	}
	return cfg, nil
}
