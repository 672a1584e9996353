package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKubeconfigProblemIsOneLineExit2: a missing or unusable kubeconfig is said as such, in one line naming the
// file and the flags that fix it, exit 2, for read and write commands alike (it used to surface as an OIDC
// issuer error after a connection to localhost:8080).
func TestKubeconfigProblemIsOneLineExit2(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	missing := filepath.Join(home, "nope", "config")
	broken := filepath.Join(home, "broken")
	if err := os.WriteFile(broken, []byte("apiVersion: v1\nclusters: [unclosed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{missing, []string{"list"}, "KUBECONFIG=" + missing + " (does not exist)"},
		{missing, []string{"doctor", "app", "-n", "shop"}, "KUBECONFIG=" + missing + " (does not exist)"},
		{missing, []string{"test", "app", "-n", "shop"}, "KUBECONFIG=" + missing + " (does not exist)"},
		{missing, []string{"link", "app", "-n", "shop"}, "KUBECONFIG=" + missing + " (does not exist)"},
		{missing, []string{"issuer"}, "KUBECONFIG=" + missing + " (does not exist)"},
		{missing, []string{"audit", "-n", "shop"}, "KUBECONFIG=" + missing + " (does not exist)"},
		{missing + string(filepath.ListSeparator) + missing + "2", []string{"list", "-A"}, missing + "2 (does not exist)"},
		{"", []string{"list", "--kubeconfig", missing}, missing},
		{"", []string{"unlink", "app", "-n", "shop", "--kubeconfig", missing}, missing},
		{broken, []string{"list"}, broken},
		{"", []string{"doctor", "-A", "--kubeconfig", home}, home},
	} {
		t.Setenv("KUBECONFIG", tc.env)
		_, errOut, code := run(tc.args...)
		if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "kubeconfig: ") || !strings.Contains(errOut, tc.want) ||
			!strings.Contains(errOut, "--kubeconfig") || strings.Contains(errOut, "issuer") {
			t.Errorf("KUBECONFIG=%q %v: exit %d, stderr %q", tc.env, tc.args, code, errOut)
		}
	}
}
