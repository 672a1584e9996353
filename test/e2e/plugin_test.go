package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestPluginDiscovery: the real kubectl finds the plugin on PATH and runs it.
func TestPluginDiscovery(t *testing.T) {
	r := kubectl(t, env(), "plugin", "list")
	if !strings.Contains(r.stdout, filepath.Join(pluginDir, "kubectl-irsa")) {
		t.Errorf("kubectl plugin list does not show the plugin:\n%s", r)
	}
	r = mustSucceed(t, irsaCmd(t, "version", "-o", "json"))
	var v struct {
		Kind, Version, Commit string
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("version -o json is not JSON: %v\n%s", err, r.stdout)
	}
	if v.Kind != "Version" || v.Version != "v0.0.0-e2e" || v.Commit != "e2e0000" {
		t.Errorf("version = %+v", v)
	}
	r = mustSucceed(t, irsaCmd(t, "--help"))
	if !strings.Contains(r.stdout, "kubectl irsa link") && !strings.Contains(r.stdout, "kubectl irsa [command]") {
		t.Errorf("help does not read kubectl irsa:\n%s", r.stdout)
	}
	// The issuer the sandbox's kube-apiserver serves is the EKS cluster's.
	r = mustSucceed(t, irsaCmd(t, "issuer", "-o", "json"))
	var iss struct{ Issuer, Source string }
	if err := json.Unmarshal([]byte(r.stdout), &iss); err != nil || iss.Issuer != sb.Issuer || iss.Source != "apiserver-discovery" || !strings.HasPrefix(iss.Issuer, "https://oidc.eks.us-east-1.amazonaws.com/id/") {
		t.Errorf("issuer = %+v (%v), sandbox %s", iss, err, sb.Issuer)
	}
}
