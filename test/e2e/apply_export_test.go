package e2e

import (
	"strings"
	"testing"
)

// TestApplyExportOfLinkedClusterIsInSync: ServiceAccounts linked by `link` (IRSA, actions in any order) and by
// `link --pod-identity` are exported; diff of the export exits 0 and apply of it makes 0 AWS writes.
func TestApplyExportOfLinkedClusterIsInSync(t *testing.T) {
	ns := "apply-x"
	createNamespace(t, ns)
	for _, sa := range []string{"web", "jobs", "pods"} {
		createServiceAccount(t, ns, sa, nil)
	}
	cleanupAssociations(t, ns)
	t.Cleanup(func() {
		for _, r := range []string{"apply-x-irsa", "apply-x-pi"} {
			deleteRoleIfExists(t, r)
		}
	})
	mustSucceed(t, irsaCmd(t, "link", "web", "-n", ns, "--role-name", "apply-x-irsa", "--allow", "sqs:SendMessage,s3:GetObject"))
	mustSucceed(t, irsaCmd(t, "link", "jobs", "-n", ns, "--role-name", "apply-x-irsa", "--allow", "s3:GetObject"))
	mustSucceed(t, irsaCmd(t, "link", "pods", "-n", ns, "--pod-identity", "--role-name", "apply-x-pi", "--allow", "eks:ListClusters"))

	exp := mustSucceed(t, irsaCmd(t, "export", "-n", ns))
	if !strings.Contains(exp.stdout, "apply-x-irsa") || !strings.Contains(exp.stdout, "apply-x-pi") {
		t.Fatalf("export lacks the roles:\n%s", exp)
	}
	file := writeSet(t, exp.stdout)
	if code, res := diffSet(t, file); code != 0 {
		t.Fatalf("diff of the export: exit %d, drift %+v\nexport:\n%s", code, res.Drift, exp.stdout)
	}
	counter.Reset()
	r := mustSucceed(t, irsaCmd(t, "apply", "-f", file))
	if w := counter.Writes(); len(w) != 0 || !strings.Contains(r.stdout, "unchanged") {
		t.Errorf("apply of the export wrote %v\n%s", w, r)
	}
}
