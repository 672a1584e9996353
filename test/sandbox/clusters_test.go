package sandbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
)

// TestTwoClusters starts the whole sandbox with two clusters: each context answers kubectl, a token from each
// carries that cluster's own issuer, and EKS DescribeCluster (through the proxy) reports that issuer.
func TestTwoClusters(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(DefaultBinDir(), bin)); err != nil {
			t.Skipf("%s not built (hack/control-plane.sh)", bin)
		}
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not on PATH")
	}
	ctx := context.Background()
	s, err := Start(ctx, Options{Clusters: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	if len(s.Clusters) != 2 || s.Clusters[0].Context != s.Context || s.Clusters[0].Issuer != s.Issuer || s.Clusters[1].Issuer == s.Issuer {
		t.Fatalf("clusters %+v", s.Clusters)
	}
	kubectl := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("kubectl", append([]string{"--kubeconfig", s.Kubeconfig}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if cur := kubectl("config", "current-context"); cur != s.Context {
		t.Errorf("current context %q, want the first cluster's %q", cur, s.Context)
	}
	client := eks.New(eks.Options{Region: Region, BaseEndpoint: aws.String(s.AWSEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")})
	for _, c := range s.Clusters {
		kubectl("--context", c.Context, "create", "serviceaccount", "only-in-"+c.Name)
		token := kubectl("--context", c.Context, "create", "token", "only-in-"+c.Name, "--audience", "sts.amazonaws.com")
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("%s: token is not a JWT", c.Name)
		}
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		var claims struct {
			Iss string `json:"iss"`
		}
		if err != nil || json.Unmarshal(raw, &claims) != nil || claims.Iss != c.Issuer {
			t.Errorf("%s: token issuer %q, want %q", c.Name, claims.Iss, c.Issuer)
		}
		out, err := client.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(c.Name)})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(out.Cluster.Identity.Oidc.Issuer); got != c.Issuer || aws.ToString(out.Cluster.Arn) != c.Context {
			t.Errorf("%s: DescribeCluster issuer %q arn %q, want %q %q", c.Name, got, aws.ToString(out.Cluster.Arn), c.Issuer, c.Context)
		}
	}
	// Separate clusters: a ServiceAccount made in one is not in the other.
	second := s.Clusters[1]
	cmd := exec.Command("kubectl", "--kubeconfig", s.Kubeconfig, "--context", second.Context, "get", "serviceaccount", "only-in-"+ClusterName)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "NotFound") {
		t.Errorf("the first cluster's ServiceAccount is visible in %s: %s", second.Name, out)
	}
	// The viewer authenticates to the second cluster too (Forbidden: no RBAC grant, not Unauthorized).
	cmd = exec.Command("kubectl", "--kubeconfig", s.ViewerKubeconfig, "--context", second.Context, "get", "serviceaccounts")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "Forbidden") {
		t.Errorf("viewer on %s: want Forbidden, got %v: %s", second.Name, err, out)
	}
	if second.Webhook == nil || second.Webhook.Requests.Load() == 0 {
		t.Errorf("%s's webhook was never called", second.Name)
	}
}
