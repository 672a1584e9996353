package e2e

import (
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// TestAssociationReadDenied: when eks:ListPodIdentityAssociations is refused, doctor, test and list of a working
// Pod Identity ServiceAccount say could-not-check and exit 2; never NotAnnotated, FAIL or "no problem found"
// (issue 24 item 9).
func TestAssociationReadDenied(t *testing.T) {
	ns := "pidenied"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)
	associate(t, ns, "app", createPodIdentityRole(t, "pidenied-app"))
	remove := sb.AWS.InjectFault(sandbox.Fault{Operation: "eks:ListPodIdentityAssociations"})
	defer remove()
	for _, args := range [][]string{{"doctor", "app", "-n", ns}, {"test", "app", "-n", ns}, {"list", "-n", ns}} {
		r := irsaCmd(t, args...)
		all := r.stdout + r.stderr
		if r.code != 2 || !strings.Contains(all, "could not check the EKS Pod Identity associations") ||
			strings.Contains(all, "NotAnnotated") || strings.Contains(all, "FAIL") || strings.Contains(all, "no IRSA or Pod Identity problem found") {
			t.Errorf("%v: %s", args, r)
		}
	}
}
