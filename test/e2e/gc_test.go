package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// sandboxEnv is the environment of a plugin run against sandbox s (not the shared one), with overrides.
func sandboxEnv(s *sandbox.Sandbox, overrides ...string) []string {
	base := map[string]string{
		"PATH": pluginDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME": os.Getenv("HOME"),
	}
	for _, kv := range append(s.Env(), overrides...) {
		k, v, _ := strings.Cut(kv, "=")
		base[k] = v
	}
	var out []string
	for k, v := range base {
		out = append(out, k+"="+v)
	}
	return out
}

// TestGCAfterClusterDeleted: in a sandbox of two clusters (its own: gc judges the whole account, which the shared
// sandbox fills with other tests' providers), a role shared by A and B and a role of A only; then A is deleted
// (its EKS record gone, its context removed from the kubeconfig). gc finds A's provider, the shared role's
// statement for A and A's role; it writes nothing without --confirm; with it, it deletes them and keeps B's
// provider, B's subject and a provider kubectl irsa did not create; a re-run finds nothing.
func TestGCAfterClusterDeleted(t *testing.T) {
	ctx := context.Background()
	s, err := sandbox.Start(ctx, sandbox.Options{BinDir: sandbox.DefaultBinDir(), Clusters: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	b, a := s.Clusters[0], s.Clusters[1]
	run := func(environ []string, args ...string) result { t.Helper(); return kubectl(t, environ, args...) }
	envAll := sandboxEnv(s)
	for _, c := range s.Clusters {
		mustSucceed(t, run(envAll, "--context", c.Context, "create", "namespace", "gc-ns"))
	}
	mustSucceed(t, run(envAll, "irsa", "--context", b.Context, "link", "app", "-n", "gc-ns", "--role-name", "gc-shared", "--create-service-account"))
	mustSucceed(t, run(envAll, "irsa", "--context", a.Context, "link", "app", "-n", "gc-ns", "--role-name", "gc-shared", "--create-service-account"))
	mustSucceed(t, run(envAll, "irsa", "--context", a.Context, "link", "only-a", "-n", "gc-ns", "--role-name", "gc-a-only", "--create-service-account"))

	client := iam.New(iam.Options{Region: sandbox.Region, BaseEndpoint: aws.String(s.MotoEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, "")})
	const foreignIssuer = "https://oidc.eks.us-east-1.amazonaws.com/id/F0RE1GN0000000000000000000000000"
	if _, err := client.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(foreignIssuer), ClientIDList: []string{"sts.amazonaws.com"}}); err != nil {
		t.Fatal(err)
	}
	pA, pB := trust.NewProvider("aws", sandbox.Account, a.Issuer), trust.NewProvider("aws", sandbox.Account, b.Issuer)
	pForeign := trust.NewProvider("aws", sandbox.Account, foreignIssuer)
	exists := func(p trust.Provider) bool {
		t.Helper()
		_, err := client.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(p.ARN)})
		if err != nil && !awsapi.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}
	trustOf := func(role string) *trust.Document {
		t.Helper()
		out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
		if awsapi.IsNotFound(err) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		d, err := trust.Parse(aws.ToString(out.Role.AssumeRolePolicyDocument))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if !exists(pA) || !exists(pB) || len(trustOf("gc-shared").Subjects(pA)) != 1 {
		t.Fatalf("setup: providers A %v B %v, shared trust %s", exists(pA), exists(pB), trustOf("gc-shared"))
	}

	// Cluster A is deleted, and its context with it.
	if err := s.DeleteEKSCluster(ctx, a.Name); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(s.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	delete(cfg.Contexts, a.Context)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}
	environ := sandboxEnv(s, "KUBECONFIG="+kubeconfig)

	s.AWS.Reset()
	r := mustSucceed(t, run(environ, "irsa", "gc", "--region", sandbox.Region))
	for _, want := range []string{
		"- oidc-provider/" + pA.HostPath + ": delete",
		"~ role/gc-shared: trust: remove the statements naming gone provider(s) " + pA.ARN,
		"- role/gc-a-only: delete",
		"= oidc-provider/" + pForeign.HostPath + ": its issuer matches no cluster, but kubectl irsa did not create it: kept",
		"re-run with --confirm",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r.stdout, pB.HostPath) {
		t.Errorf("plan names B's provider:\n%s", r.stdout)
	}
	if w := s.AWS.Writes(); len(w) != 0 {
		t.Errorf("gc without --confirm wrote %v", w)
	}

	r = mustSucceed(t, run(environ, "irsa", "gc", "--region", sandbox.Region, "--confirm"))
	if exists(pA) || !exists(pB) || !exists(pForeign) {
		t.Errorf("after gc --confirm: A %v (want gone), B %v, foreign %v (want kept)\n%s", exists(pA), exists(pB), exists(pForeign), r)
	}
	shared := trustOf("gc-shared")
	if shared == nil || len(shared.Subjects(pA)) != 0 || len(shared.Subjects(pB)) != 1 || strings.Contains(shared.String(), pA.ARN) {
		t.Errorf("shared role's trust: %v", shared)
	}
	if trustOf("gc-a-only") != nil {
		t.Error("A's role kept")
	}
	r = mustSucceed(t, run(environ, "irsa", "gc", "--region", sandbox.Region, "--confirm"))
	if !strings.Contains(r.stdout, "nothing to collect") {
		t.Errorf("re-run:\n%s", r)
	}
	// B's ServiceAccount still links (nothing of B was touched).
	r = mustSucceed(t, run(environ, "irsa", "--context", b.Context, "link", "app", "-n", "gc-ns", "--role-name", "gc-shared"))
	if !strings.Contains(r.stdout, "unchanged") {
		t.Errorf("B's link after gc:\n%s", r)
	}
}
