package e2e

import (
	"encoding/json"
	"os"
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
	if strings.Contains(r.stdout, "irsa-core") {
		t.Errorf("kubectl plugin list shows the full CLI as a plugin of its own:\n%s", r)
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

// TestEntryServesLogsOnlyDoctor: kubectl-irsa serves a logs-only doctor itself (it works with the full CLI
// absent, reading a real SDK line), and for every other command says in one line that irsa-core is missing.
func TestEntryServesLogsOnlyDoctor(t *testing.T) {
	alone := t.TempDir()
	entry, err := os.ReadFile(filepath.Join(pluginDir, "kubectl-irsa"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(alone, "kubectl-irsa"), entry, 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(alone, "app.log")
	line := `{"level":"error","msg":"Reconciler error","error":"AccessDenied: User: arn:aws:sts::123456789012:assumed-role/eks-node-role/i-0abc123def4567890 is not authorized to perform: eks:ListClusters"}` + "\n"
	if err := os.WriteFile(log, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := env("PATH=" + alone + string(os.PathListSeparator) + os.Getenv("PATH"))
	r := kubectl(t, environ, "irsa", "doctor", "--logs-file", log, "-o", "json")
	if r.code != 1 || !strings.Contains(r.stdout, `"id": "NodeRoleFallback"`) {
		t.Errorf("doctor --logs-file without irsa-core: %s", r)
	}
	r = kubectl(t, environ, "irsa", "version")
	if r.code != 2 || !strings.Contains(r.stderr, "irsa-core is missing next to "+filepath.Join(alone, "kubectl-irsa")) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("version without irsa-core: %s", r)
	}

	// An irsa-core that is kubectl-irsa again (a copy, a link) would exec itself for ever; a directory cannot run.
	core := filepath.Join(alone, "irsa-core")
	for _, tc := range []struct {
		name, want string
		make       func() error
	}{
		{"copy", "is kubectl-irsa itself", func() error { return os.WriteFile(core, entry, 0o755) }},
		{"symbolic link", "is kubectl-irsa itself", func() error { return os.Symlink("kubectl-irsa", core) }},
		{"directory", "is not a file", func() error { return os.Mkdir(core, 0o755) }},
	} {
		if err := tc.make(); err != nil {
			t.Fatal(err)
		}
		r = kubectl(t, environ, "irsa", "version")
		if r.code != 2 || !strings.Contains(r.stderr, "irsa-core next to "+filepath.Join(alone, "kubectl-irsa")+" "+tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("irsa-core a %s of the entry: %s", tc.name, r)
		}
		if err := os.RemoveAll(core); err != nil {
			t.Fatal(err)
		}
	}
}
