package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/eksauth"
)

// startMoto runs moto_server alone (no control plane) for the emulator's own tests.
func startMoto(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short")
	}
	if _, err := exec.LookPath("moto_server"); err != nil {
		t.Skip("moto_server not on PATH")
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("moto_server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	u := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitHTTP(context.Background(), http.DefaultClient, u+"/moto-api/", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return u
}

// emulatorOnMoto is the AWS half of the sandbox (moto, the proxy with the emulator) without kube-apiserver.
func emulatorOnMoto(t *testing.T) (*Sandbox, *eks.Client) {
	t.Helper()
	s := &Sandbox{MotoEndpoint: startMoto(t)}
	ctx := context.Background()
	var err error
	if s.Issuer, err = s.createEKSCluster(ctx); err != nil {
		t.Fatal(err)
	}
	if s.tokenKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	s.accounts = newAccounts(s.MotoEndpoint)
	s.EKS = newEKSEmulator(s.MotoEndpoint, s.accounts)
	s.EKS.issuer, s.EKS.tokenKey = s.Issuer, &s.tokenKey.PublicKey
	if s.AWS, err = newProxy(s.MotoEndpoint, s.EKS); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.AWS.Close)
	s.AWSEndpoint = s.AWS.URL
	client := eks.New(eks.Options{Region: Region, BaseEndpoint: aws.String(s.AWSEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")})
	return s, client
}

func (s *Sandbox) motoIAM() *iam.Client {
	return iam.New(iam.Options{Region: Region, BaseEndpoint: aws.String(s.MotoEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")})
}

const piTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`

func TestEmulatorAssociationsAndEKSAuth(t *testing.T) {
	s, client := emulatorOnMoto(t)
	ctx := context.Background()
	role, err := s.motoIAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(piTrust)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{ClusterName: aws.String(ClusterName),
		Namespace: aws.String("ns"), ServiceAccount: aws.String("sa"), RoleArn: role.Role.Arn, Tags: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(out.Association.AssociationArn), "arn:aws:eks:us-east-1:123456789012:podidentityassociation/irsa-sandbox/a-") {
		t.Errorf("ARN %s", aws.ToString(out.Association.AssociationArn))
	}
	_, err = client.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{ClusterName: aws.String(ClusterName),
		Namespace: aws.String("ns"), ServiceAccount: aws.String("sa"), RoleArn: role.Role.Arn})
	var inUse *ekstypes.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Errorf("duplicate: %v", err)
	}
	if got := s.AWS.Calls(); len(got) != 2 || got[0] != "eks:CreatePodIdentityAssociation" {
		t.Errorf("calls %v", got)
	}

	token, err := s.MintToken(TokenOptions{Namespace: "ns", ServiceAccount: "sa", PodName: "p", PodUID: "uid-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL_EKS_AUTH", "") // the proxy's endpoint, whatever the environment says
	auth := eksauth.New(aws.Config{Region: Region, BaseEndpoint: aws.String(s.AWSEndpoint), Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")})
	got, err := auth.AssumeRoleForPodIdentity(ctx, ClusterName, token)
	if err != nil {
		t.Fatal(err)
	}
	who, err := sts.New(sts.Options{Region: Region, BaseEndpoint: aws.String(s.AWSEndpoint), Credentials: credentials.StaticCredentialsProvider{Value: got.Credentials}}).
		GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != got.AssumedRoleARN || !strings.Contains(got.AssumedRoleARN, ":assumed-role/app/eks-irsa-sandbox-p-") {
		t.Errorf("caller %+v %v, assumed %s", who, err, got.AssumedRoleARN)
	}
	if tags := s.EKS.Sessions()[0].Tags; tags["kubernetes-pod-uid"] != "uid-1" || tags["eks-cluster-name"] != ClusterName {
		t.Errorf("tags %v", tags)
	}
	expired, _ := s.MintToken(TokenOptions{Namespace: "ns", ServiceAccount: "sa", Expiry: time.Now().Add(-time.Second)})
	if _, err := auth.AssumeRoleForPodIdentity(ctx, ClusterName, expired); !eksauth.IsCode(err, eksauth.ExpiredToken) {
		t.Errorf("expired: %v", err)
	}
}

func TestWebhookPatch(t *testing.T) {
	kube := fake.NewClientset(
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "irsa", Namespace: "ns", Annotations: map[string]string{AnnotationRoleARN: "arn:aws:iam::123456789012:role/r"}}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "both", Namespace: "ns", Annotations: map[string]string{AnnotationRoleARN: "arn:aws:iam::123456789012:role/r"}}},
	)
	e := newEKSEmulator("", nil)
	e.associations = append(e.associations, &PodIdentityAssociation{ClusterARN: "arn:aws:eks:us-east-1:123456789012:cluster/" + ClusterName, Namespace: "ns", ServiceAccount: "both"})
	wh := &Webhook{kube: kube, eks: e, region: Region}
	for _, c := range []struct {
		sa, volume, env string
	}{{"irsa", IRSAVolume, "AWS_WEB_IDENTITY_TOKEN_FILE"}, {"both", PodIdentityVolume, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"}} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Annotations: map[string]string{AnnotationTokenExpiration: "1200"}},
			Spec: corev1.PodSpec{ServiceAccountName: c.sa, Containers: []corev1.Container{{Name: "c"}}}}
		patch, err := wh.patch(context.Background(), pod)
		if err != nil {
			t.Fatal(err)
		}
		var ops []struct {
			Op, Path string
			Value    json.RawMessage
		}
		if err := json.Unmarshal(patch, &ops); err != nil || len(ops) != 2 || ops[0].Path != "/spec/volumes" || ops[1].Path != "/spec/containers" {
			t.Fatalf("%s: patch %s", c.sa, patch)
		}
		var vols []corev1.Volume
		var containers []corev1.Container
		_ = json.Unmarshal(ops[0].Value, &vols)
		_ = json.Unmarshal(ops[1].Value, &containers)
		if len(vols) != 1 || vols[0].Name != c.volume || *vols[0].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds != 1200 {
			t.Errorf("%s: volumes %s", c.sa, ops[0].Value)
		}
		names := []string{}
		for _, e := range containers[0].Env {
			names = append(names, e.Name)
		}
		if !strings.Contains(strings.Join(names, ","), c.env) || (c.sa == "both" && strings.Contains(strings.Join(names, ","), "AWS_ROLE_ARN")) {
			t.Errorf("%s: env %v", c.sa, names)
		}
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns"}, Spec: corev1.PodSpec{ServiceAccountName: "nobody", Containers: []corev1.Container{{Name: "c"}}}}
	if patch, err := wh.patch(context.Background(), pod); patch != nil || err != nil {
		t.Errorf("unannotated: %s %v", patch, err)
	}
}

// TestEmulatorAccessEntries: ListAccessEntries (paged) and DescribeAccessEntry through the real EKS client, the
// cluster's authentication mode in DescribeCluster, and CONFIG_MAP mode refusing the access entry APIs.
func TestEmulatorAccessEntries(t *testing.T) {
	s, client := emulatorOnMoto(t)
	ctx := context.Background()
	node := "arn:aws:iam::123456789012:role/path/eks-node"
	s.EKS.AddAccessEntry(ClusterName, node, "EC2_LINUX")
	remove := s.EKS.AddAccessEntry(ClusterName, "arn:aws:iam::123456789012:role/gone", "")
	s.EKS.AddAccessEntry(ClusterName, "arn:aws:iam::123456789012:user/jane", "")
	remove()
	s.AWS.SetOneItemPages(true)
	var principals []string
	pages := eks.NewListAccessEntriesPaginator(client, &eks.ListAccessEntriesInput{ClusterName: aws.String(ClusterName)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		principals = append(principals, page.AccessEntries...)
	}
	s.AWS.SetOneItemPages(false)
	if strings.Join(principals, ",") != node+",arn:aws:iam::123456789012:user/jane" {
		t.Errorf("principals %v", principals)
	}
	d, err := client.DescribeAccessEntry(ctx, &eks.DescribeAccessEntryInput{ClusterName: aws.String(ClusterName), PrincipalArn: aws.String(node)})
	if err != nil {
		t.Fatal(err)
	}
	if e := d.AccessEntry; aws.ToString(e.Type) != "EC2_LINUX" || aws.ToString(e.PrincipalArn) != node || !slices.Equal(e.KubernetesGroups, []string{"system:nodes"}) ||
		!strings.HasPrefix(aws.ToString(e.AccessEntryArn), "arn:aws:eks:us-east-1:123456789012:access-entry/irsa-sandbox/role/123456789012/eks-node/") || e.CreatedAt == nil {
		t.Errorf("entry %+v", e)
	}
	var nf *ekstypes.ResourceNotFoundException
	if _, err := client.DescribeAccessEntry(ctx, &eks.DescribeAccessEntryInput{ClusterName: aws.String(ClusterName), PrincipalArn: aws.String("arn:aws:iam::123456789012:role/gone")}); !errors.As(err, &nf) {
		t.Errorf("removed entry: %v", err)
	}
	if calls := s.AWS.Calls(); !slices.Contains(calls, "eks:DescribeAccessEntry") || !slices.Contains(calls, "eks:ListAccessEntries") {
		t.Errorf("calls %v", calls)
	}

	mode := func() ekstypes.AuthenticationMode {
		out, err := client.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(ClusterName)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Cluster.Identity.Oidc.Issuer) != s.Issuer {
			t.Errorf("DescribeCluster lost moto's fields: %+v", out.Cluster)
		}
		if out.Cluster.AccessConfig == nil {
			return ""
		}
		return out.Cluster.AccessConfig.AuthenticationMode
	}
	if m := mode(); m != "" {
		t.Errorf("mode %q before SetAuthenticationMode, want none (moto's answer)", m)
	}
	s.EKS.SetAuthenticationMode(ClusterName, "API")
	if m := mode(); m != ekstypes.AuthenticationModeApi {
		t.Errorf("mode %q, want API", m)
	}
	s.EKS.SetAuthenticationMode(ClusterName, "CONFIG_MAP")
	var invalid *ekstypes.InvalidRequestException
	if _, err := client.ListAccessEntries(ctx, &eks.ListAccessEntriesInput{ClusterName: aws.String(ClusterName)}); !errors.As(err, &invalid) {
		t.Errorf("CONFIG_MAP ListAccessEntries: %v", err)
	}
	if _, err := client.DescribeAccessEntry(ctx, &eks.DescribeAccessEntryInput{ClusterName: aws.String(ClusterName), PrincipalArn: aws.String(node)}); !errors.As(err, &invalid) {
		t.Errorf("CONFIG_MAP DescribeAccessEntry: %v", err)
	}
}
