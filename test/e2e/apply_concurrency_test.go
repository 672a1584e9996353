package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// concurrentSet is an IdentitySet giving one role (by name) to ServiceAccounts of ns, with one action.
func concurrentSet(name, role, ns, action string, sas []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: irsa.kubectl-irsa.io/v1alpha1\nkind: IdentitySet\nmetadata:\n  name: %s\nspec:\n  roles:\n", name)
	fmt.Fprintf(&b, "    - name: %s\n      allow: [%s]\n      serviceAccounts:\n", role, action)
	for _, sa := range sas {
		fmt.Fprintf(&b, "        - %s/%s\n", ns, sa)
	}
	return b.String()
}

// TestConcurrentAppliesAndLinksOneRole: two pipelines apply two sets that share one role while two links add
// their ServiceAccounts to it, all at once, three rounds (the first creates the role: four runs race to create
// it). Every run succeeds, no subject or statement is lost, and each set is then in sync (the other set's and
// the links' subjects are not its drift).
func TestConcurrentAppliesAndLinksOneRole(t *testing.T) {
	ns, role := "conc-apply", "conc-apply-shared"
	createNamespace(t, ns)
	t.Cleanup(func() { deleteRoleIfExists(t, role) })
	var setA, setB, linked []string
	for round := range 3 {
		setA = append(setA, fmt.Sprintf("a%d", round))
		setB = append(setB, fmt.Sprintf("b%d", round))
		fileA := writeSet(t, concurrentSet("conc-apply-a", role, ns, "s3:GetObject", setA))
		fileB := writeSet(t, concurrentSet("conc-apply-b", role, ns, "sqs:SendMessage", setB))
		runs := [][]string{{"apply", "-f", fileA}, {"apply", "-f", fileB}}
		for i := range 2 {
			sa := fmt.Sprintf("l%d-%d", round, i)
			createServiceAccount(t, ns, sa, nil)
			linked = append(linked, sa)
			runs = append(runs, []string{"link", sa, "-n", ns, "--role-name", role, "--allow", "eks:ListClusters"})
		}
		for i, r := range runAll(t, runs) {
			if r.code != 0 {
				t.Errorf("round %d: %v: %s", round, runs[i], r)
			}
		}
		subs := subjectsOf(t, role)
		pol := rolePolicy(t, role)
		for _, sa := range slices.Concat(setA, setB, linked) {
			if !slices.Contains(subs, trust.Subject(ns, sa)) {
				t.Errorf("round %d: subject of %s lost: %v", round, sa, subs)
			}
			if !strings.Contains(pol, setup.PolicySid(ns, sa)) {
				t.Errorf("round %d: statement of %s lost: %s", round, sa, pol)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		for _, file := range []string{fileA, fileB} {
			if code, res := diffSet(t, file); code != 0 {
				t.Errorf("round %d: diff of %s after the concurrent runs: exit %d, drift %+v", round, file, code, res.Drift)
			}
		}
	}
}
