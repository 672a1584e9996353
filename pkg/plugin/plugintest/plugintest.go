// Package plugintest is the test factory of package plugin, as kubectl's cmdtesting.NewTestFactory: a fake
// clientset (k8s.io/client-go/kubernetes/fake) and a fake AWS (pkg/awsapi/fakeaws) behind the plugin.Factory
// interface, so every command's Complete/Validate/Run can be unit-tested through its cobra command.
//
//	tf := plugintest.NewFactory(plugintest.Namespace("shop"), plugintest.ServiceAccount("shop", "cart", nil))
//	out, errOut, code := tf.Run("link", "cart", "-n", "shop", "--allow", "s3:GetObject")
//	// assert on out, errOut, code, tf.AWS.Writes(), tf.Cloud.IAM.Trust("irsa-test-shop-cart"), tf.Kube.Actions()
package plugintest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin"
)

// The fake cluster: an EKS cluster whose issuer EKS DescribeCluster answers (the fake clientset serves no
// discovery document, so every command finds the issuer through EKS).
const (
	ClusterName = "test"
	Region      = "us-east-1"
	Issuer      = "https://oidc.eks.us-east-1.amazonaws.com/id/TESTCLUSTER"
	HostPath    = "oidc.eks.us-east-1.amazonaws.com/id/TESTCLUSTER"
)

// Factory implements plugin.Factory with fakes. Its fields may be changed before Run.
type Factory struct {
	Kube  *fake.Clientset
	Cloud *fakeaws.AWS
	// Cluster is what the kubeconfig would tell (name and region of the fake EKS cluster).
	Cluster cluster.Ref
	// AWSErr, when set, is the error of AWS(): the AWS configuration cannot be loaded.
	AWSErr error
	// DenyWrites makes SelfSubjectAccessReviews answer "not allowed"; NoTokens makes TokenRequests fail.
	DenyWrites, NoTokens bool
	// RoleCloud, when set, is the fake AWS that --role-profile's credentials act in, as account RoleAccount.
	RoleCloud   *fakeaws.AWS
	RoleAccount string
	// Contexts are the factories of other kubeconfig contexts, by name (retarget's --from-context and
	// --to-context); TokenIssuer is the iss of the tokens this factory's clientset mints ("" is Issuer).
	Contexts    map[string]*Factory
	TokenIssuer string

	flags *plugin.GlobalFlags
}

// NewFactory returns a factory whose clientset holds objects, whose fake EKS knows the cluster's issuer, and
// whose clientset allows every access review and mints ServiceAccount tokens from Issuer.
func NewFactory(objects ...runtime.Object) *Factory {
	f := &Factory{Kube: fake.NewClientset(objects...), Cloud: fakeaws.New(), Cluster: cluster.Ref{Name: ClusterName, Region: Region}}
	f.Cloud.EKS.Clusters[ClusterName] = Issuer
	f.Kube.PrependReactor("create", "selfsubjectaccessreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authorizationv1.SelfSubjectAccessReview{Status: authorizationv1.SubjectAccessReviewStatus{Allowed: !f.DenyWrites}}, nil
	})
	f.Kube.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		if f.NoTokens {
			return true, nil, errors.New("serviceaccounts/token is forbidden")
		}
		create, ok := a.(k8stesting.CreateActionImpl)
		if !ok {
			return false, nil, nil
		}
		tr := create.GetObject().(*authenticationv1.TokenRequest)
		name := create.Name
		out := tr.DeepCopy()
		issuer := f.TokenIssuer
		if issuer == "" {
			issuer = Issuer
		}
		out.Status.Token = Token(issuer, "system:serviceaccount:"+a.GetNamespace()+":"+name, tr.Spec.Audiences...)
		return true, out, nil
	})
	return f
}

// Token returns an unsigned JWT with the claims (kubectl irsa never verifies one).
func Token(issuer, subject string, audiences ...string) string {
	payload, _ := json.Marshal(map[string]any{"iss": issuer, "sub": subject, "aud": audiences, "exp": 4102444800})
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc(payload) + ".sig"
}

// Namespace is a namespace object for NewFactory.
func Namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// ServiceAccount is a ServiceAccount object for NewFactory.
func ServiceAccount(namespace, name string, annotations map[string]string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Annotations: annotations}}
}

// Run runs `kubectl irsa ARGS...` with this factory and returns stdout, stderr and the exit code.
func (f *Factory) Run(args ...string) (stdout, stderr string, code int) {
	return f.RunWithInput("", args...)
}

// RunWithInput is Run with stdin.
func (f *Factory) RunWithInput(stdin string, args ...string) (stdout, stderr string, code int) {
	streams, in, out, errOut := genericiooptions.NewTestIOStreams()
	in.WriteString(stdin)
	cmd := plugin.NewCmdIRSAWithFactory(streams, f.bind)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	code = plugin.Execute(cmd, streams)
	return out.String(), errOut.String(), code
}

func (f *Factory) bind(flags *plugin.GlobalFlags) plugin.Factory {
	if flags.ConfigFlags.Context != nil {
		if c := f.Contexts[*flags.ConfigFlags.Context]; c != nil {
			c.flags = flags
			return c
		}
	}
	f.flags = flags
	return f
}

// KubeClient implements plugin.Factory.
func (f *Factory) KubeClient() (kubernetes.Interface, error) { return f.Kube, nil }

// Namespace implements plugin.Factory: -n, else "default".
func (f *Factory) Namespace() (string, error) {
	if f.flags != nil && f.flags.ConfigFlags.Namespace != nil && *f.flags.ConfigFlags.Namespace != "" {
		return *f.flags.ConfigFlags.Namespace, nil
	}
	return "default", nil
}

// ClusterRef implements plugin.Factory: Cluster, with --eks-cluster and --region applied.
func (f *Factory) ClusterRef() cluster.Ref {
	ref := f.Cluster
	if f.flags != nil && f.flags.EKSCluster != "" {
		ref.Name = f.flags.EKSCluster
	}
	if f.flags != nil && f.flags.Region != "" {
		ref.Region = f.flags.Region
	}
	return ref
}

// AWS implements plugin.Factory with the fake AWS.
func (f *Factory) AWS(context.Context) (*plugin.AWSClients, error) {
	if f.AWSErr != nil {
		return nil, f.AWSErr
	}
	return &plugin.AWSClients{Region: Region, IAM: f.Cloud.IAM, STS: f.Cloud.STS, EKS: f.Cloud.EKS, EKSAuth: f.Cloud.EKS,
		PodIdentityCredentials: f.Cloud.EKSAuth()}, nil
}

// Caller implements plugin.Factory.
func (f *Factory) Caller(ctx context.Context) (awsapi.Caller, error) {
	if f.AWSErr != nil {
		return awsapi.Caller{}, f.AWSErr
	}
	return awsapi.WhoAmI(ctx, f.Cloud.STS)
}

// RoleProfileAccount implements plugin.Factory: RoleAccount when --role-profile is given.
func (f *Factory) RoleProfileAccount(context.Context) (string, error) {
	if f.flags == nil || f.flags.RoleProfile == "" {
		return "", nil
	}
	return f.RoleAccount, nil
}

// RoleProfileAWS implements plugin.Factory: RoleCloud when --role-profile is given (nil without it).
func (f *Factory) RoleProfileAWS(context.Context) (*plugin.AWSClients, error) {
	if f.flags == nil || f.flags.RoleProfile == "" || f.RoleCloud == nil {
		return nil, nil
	}
	return &plugin.AWSClients{Region: Region, IAM: f.RoleCloud.IAM, STS: f.RoleCloud.STS, EKS: f.RoleCloud.EKS}, nil
}

// Requests counts the Kubernetes requests of a verb ("list", "patch", ...) on a resource.
func (f *Factory) Requests(verb, resource string) int {
	n := 0
	for _, a := range f.Kube.Actions() {
		if a.GetVerb() == verb && a.GetResource().Resource == resource {
			n++
		}
	}
	return n
}
