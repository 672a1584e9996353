package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/eksauth"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/rolelock"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// GlobalFlags are the flags every subcommand takes: kubectl's (cli-runtime ConfigFlags) and the AWS ones.
type GlobalFlags struct {
	ConfigFlags *genericclioptions.ConfigFlags
	// AWSProfile selects a shared config profile (as AWS_PROFILE does).
	AWSProfile string
	// Region overrides the AWS region; by default it comes from the AWS config or the EKS context name.
	Region string
	// EKSCluster names the EKS cluster when the kubeconfig does not tell it.
	EKSCluster string
	// RoleProfile is the shared config profile whose credentials act in the account of a role that is not the
	// caller's (cross-account IRSA); registered by the commands that read or write roles.
	RoleProfile string
}

func (g *GlobalFlags) addFlags(flags *pflag.FlagSet) {
	g.ConfigFlags.AddFlags(flags)
	flags.StringVar(&g.AWSProfile, "aws-profile", "", "AWS shared config profile to use (default: AWS_PROFILE or the default profile)")
	flags.StringVar(&g.Region, "region", "", "AWS region (default: from the AWS config, else from the EKS context name)")
	flags.StringVar(&g.EKSCluster, "eks-cluster", "", "EKS cluster name, when the kubeconfig context does not name it")
}

// Factory is the one way in: it turns the global flags into the clients a command runs with. Each thing is
// built once per command and memoised. Tests replace it (package plugintest) with a fake clientset and a
// fake AWS.
type Factory interface {
	// KubeClient is the clientset of the current kubeconfig context.
	KubeClient() (kubernetes.Interface, error)
	// Namespace is -n, else the context's namespace.
	Namespace() (string, error)
	// ClusterRef is what the flags and the kubeconfig tell about the EKS cluster.
	ClusterRef() cluster.Ref
	// AWS returns the AWS clients, from one aws.Config loaded once through the SDK's default chain.
	AWS(ctx context.Context) (*AWSClients, error)
	// Caller is who the AWS credentials belong to (one sts:GetCallerIdentity, cached).
	Caller(ctx context.Context) (awsapi.Caller, error)
	// RoleProfileAccount is the account --role-profile's credentials act in ("" without --role-profile).
	RoleProfileAccount(ctx context.Context) (string, error)
	// RoleProfileAWS returns the AWS clients of --role-profile (nil without it); accountRouter decides which
	// account's calls they make.
	RoleProfileAWS(ctx context.Context) (*AWSClients, error)
}

// AWSClients are the AWS API clients of one aws.Config, seen through the interfaces of their users.
type AWSClients struct {
	Region string
	IAM    IAMClient
	STS    STSClient
	EKS    EKSClient
	// EKSAuth is EKS Auth (AssumeRoleForPodIdentity), for test's Pod Identity path.
	EKSAuth inspect.EKSAuthAPI
	// PodIdentityCredentials is EKS Auth as migrate's verifier sees it (only the credentials).
	PodIdentityCredentials setup.EKSAuthAPI
	// AccountDetails is iam:GetAccountAuthorizationDetails for audit at fleet size (nil: role by role).
	AccountDetails inspect.AccountDetailsAPI
	// S3 returns an S3 client for the S3 role lock, in region ("": this config's region); nil when there is none.
	S3 func(region string) rolelock.S3API
}

// IAMClient is every IAM call of the write side and the read side.
type IAMClient interface {
	setup.IAMAPI
	inspect.IAMAPI
}

// STSClient is every STS call: the caller's identity and the web identity exchange of test.
type STSClient interface {
	awsapi.CallerAPI
	inspect.WebIdentitySTSAPI
}

// EKSClient is every EKS call: DescribeCluster for the issuer, Pod Identity and access entries for doctor.
type EKSClient interface {
	cluster.EKSAPI
	inspect.EKSAPI
	setup.EKSAPI
	setup.GCEKSAPI
}

// ErrKubeconfig: the kubeconfig cannot be read, or names no cluster to talk to (exit 2 for every command).
var ErrKubeconfig = errors.New("kubeconfig")

// kubeconfigError is a kubeconfig problem, in one line that names it.
func kubeconfigError(err error) error {
	return fmt.Errorf("%w: %w", ErrKubeconfig, err)
}

// checkKubeconfig refuses a kubeconfig that cannot be read, and one that names no context to use. client-go
// would otherwise skip a missing KUBECONFIG file silently and talk to http://localhost:8080, and the command
// would fail much later on something else (the OIDC issuer). --server, or running in a pod, needs no context.
func checkKubeconfig(cf *genericclioptions.ConfigFlags) error {
	raw, err := cf.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return kubeconfigError(err)
	}
	if cf.APIServer != nil && *cf.APIServer != "" {
		return nil
	}
	name := raw.CurrentContext
	if cf.Context != nil && *cf.Context != "" {
		name = *cf.Context
	}
	if name != "" && raw.Contexts[name] != nil {
		return nil
	}
	if _, err := rest.InClusterConfig(); err == nil {
		return nil
	}
	if name != "" {
		return kubeconfigError(fmt.Errorf("context %q not found in %s", name, kubeconfigSources(cf)))
	}
	return kubeconfigError(fmt.Errorf("no current context in %s", kubeconfigSources(cf)))
}

// kubeconfigSources says which kubeconfig files were read, and which of them do not exist.
func kubeconfigSources(cf *genericclioptions.ConfigFlags) string {
	if cf.KubeConfig != nil && *cf.KubeConfig != "" {
		return *cf.KubeConfig
	}
	describe := func(path string) string {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return path + " (does not exist)"
		}
		return path
	}
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		var files []string
		for _, p := range filepath.SplitList(env) {
			if p != "" {
				files = append(files, describe(p))
			}
		}
		return clientcmd.RecommendedConfigPathEnvVar + "=" + strings.Join(files, string(filepath.ListSeparator))
	}
	return describe(clientcmd.RecommendedHomeFile)
}

// NewFactory returns the factory of the real clients, reading flags when first asked.
func NewFactory(flags *GlobalFlags) Factory { return &factory{flags: flags} }

type factory struct {
	flags *GlobalFlags

	mu       sync.Mutex
	callerMu sync.Mutex
	kube     kubernetes.Interface
	aws      *AWSClients
	awsErr   error
	caller   *awsapi.Caller
	cluster  *cluster.Ref
	role     roleProfile
}

func (f *factory) KubeClient() (kubernetes.Interface, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.kube != nil {
		return f.kube, nil
	}
	if err := checkKubeconfig(f.flags.ConfigFlags); err != nil {
		return nil, err
	}
	restConfig, err := f.flags.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, kubeconfigError(err)
	}
	// client-go's default client-side limit (5 requests a second, bursts of 10, which kubectl keeps) makes a
	// fleet's list pages and migrate's log reads wait on the client; the API server's priority and fairness
	// (on by default since 1.20) protects it from a faster client.
	if restConfig.QPS == 0 {
		restConfig.QPS, restConfig.Burst = 50, 100
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("cannot create Kubernetes client: %w", err)
	}
	f.kube = client
	return client, nil
}

func (f *factory) Namespace() (string, error) {
	ns, _, err := f.flags.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", kubeconfigError(err)
	}
	return ns, nil
}

func (f *factory) ClusterRef() cluster.Ref {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cluster == nil {
		ref := resolveClusterRef(f.flags)
		f.cluster = &ref
	}
	return *f.cluster
}

// resolveClusterRef reads the EKS cluster from the flags, else the kubeconfig's context and exec args.
func resolveClusterRef(g *GlobalFlags) cluster.Ref {
	ref := cluster.Ref{Name: g.EKSCluster, Region: g.Region}
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
	return cluster.Resolve(ref, contextName, clusterName, execArgs)
}

// AWS loads the AWS configuration once through the SDK's default chain, honouring --aws-profile and
// --region, and falling back to the region of the EKS cluster named by the kubeconfig.
func (f *factory) AWS(ctx context.Context) (*AWSClients, error) {
	region := f.ClusterRef().Region
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.aws != nil || f.awsErr != nil {
		return f.aws, f.awsErr
	}
	f.aws, f.awsErr = loadAWS(ctx, f.flags, region)
	return f.aws, f.awsErr
}

// awsHTTPTimeout bounds each AWS request, so an endpoint that accepts connections and never answers fails (after
// the SDK's retries) instead of hanging the command.
const awsHTTPTimeout = 20 * time.Second

func loadAWS(ctx context.Context, g *GlobalFlags, clusterRegion string) (*AWSClients, error) {
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(awsHTTPTimeout))}
	if g.AWSProfile != "" {
		opts = append(opts, config.WithSharedConfigProfile(g.AWSProfile))
	}
	if g.Region != "" {
		opts = append(opts, config.WithRegion(g.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot load AWS configuration: %w (check AWS_PROFILE/--aws-profile and ~/.aws/config)", err)
	}
	if cfg.Region == "" {
		cfg.Region = clusterRegion
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: set --region or AWS_REGION")
	}
	return newAWSClients(cfg), nil
}

func newAWSClients(cfg aws.Config) *AWSClients {
	client := iam.NewFromConfig(cfg, withAdaptiveRetry)
	auth := eksauth.New(cfg)
	return &AWSClients{Region: cfg.Region, IAM: client, STS: sts.NewFromConfig(cfg), EKS: eks.NewFromConfig(cfg), EKSAuth: auth,
		PodIdentityCredentials: eksAuthCredentials{auth}, AccountDetails: client,
		S3: func(region string) rolelock.S3API {
			return s3.NewFromConfig(cfg, func(o *s3.Options) {
				// S3-compatible stores that return no checksum would make the SDK log a line per read.
				o.DisableLogOutputChecksumValidationSkipped = true
				if region != "" {
					o.Region = region
				}
			})
		}}
}

func (f *factory) Caller(ctx context.Context) (awsapi.Caller, error) {
	// callerMu serialises the first call, so concurrent readers (the Inspector's role reads) make one
	// sts:GetCallerIdentity between them.
	f.callerMu.Lock()
	defer f.callerMu.Unlock()
	f.mu.Lock()
	if f.caller != nil {
		defer f.mu.Unlock()
		return *f.caller, nil
	}
	f.mu.Unlock()
	clients, err := f.AWS(ctx)
	if err != nil {
		return awsapi.Caller{}, err
	}
	c, err := awsapi.WhoAmI(ctx, clients.STS)
	if err != nil {
		return awsapi.Caller{}, err
	}
	f.mu.Lock()
	f.caller = &c
	f.mu.Unlock()
	return c, nil
}

// issuerDiscovery returns the issuer discovery of the factory's cluster: the API server's discovery
// document, EKS DescribeCluster whenever the AWS configuration loads, then a token's iss claim.
func issuerDiscovery(ctx context.Context, f Factory) (*cluster.Discovery, error) {
	kube, err := f.KubeClient()
	if err != nil {
		return nil, err
	}
	d := &cluster.Discovery{Kube: kube, Cluster: f.ClusterRef()}
	if clients, err := f.AWS(ctx); err == nil {
		d.EKS = clients.EKS
	}
	return d, nil
}
