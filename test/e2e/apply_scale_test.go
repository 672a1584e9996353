package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestApplySetScale: 100 ServiceAccounts over 10 roles applied in one run; diff of the in-sync set makes no
// write, reads per role (not per ServiceAccount), and finishes in seconds.
func TestApplySetScale(t *testing.T) {
	ns, roles, sas := "apply-s", 10, 100
	createNamespace(t, ns)
	var b strings.Builder
	b.WriteString("apiVersion: irsa.kubectl-irsa.io/v1alpha1\nkind: IdentitySet\nmetadata: {name: apply-s}\nspec:\n  roles:\n")
	for r := 0; r < roles; r++ {
		fmt.Fprintf(&b, "    - name: apply-s-%02d\n      allow: [s3:GetObject]\n      serviceAccounts:\n", r)
		for i := r; i < sas; i += roles {
			fmt.Fprintf(&b, "        - %s/sa-%03d\n", ns, i)
		}
	}
	t.Cleanup(func() {
		for r := 0; r < roles; r++ {
			deleteRoleIfExists(t, fmt.Sprintf("apply-s-%02d", r))
		}
	})
	file := writeSet(t, b.String())
	start := time.Now()
	mustSucceed(t, irsaCmd(t, "apply", "-f", file))
	t.Logf("apply of %d ServiceAccounts over %d roles: %s, %d AWS writes", sas, roles, time.Since(start).Round(time.Millisecond), len(counter.Writes()))

	counter.Reset()
	start = time.Now()
	code, res := diffSet(t, file)
	took := time.Since(start)
	calls := counter.Calls()
	t.Logf("diff of the in-sync set: %s, %d AWS calls", took.Round(time.Millisecond), len(calls))
	if code != 0 {
		t.Fatalf("diff after apply: exit %d, drift %+v", code, res.Drift)
	}
	if w := counter.Writes(); len(w) != 0 {
		t.Errorf("diff wrote %v", w)
	}
	// caller, provider, associations, and per role GetRole and GetRolePolicy (+ a few for discovery)
	if max := 2*roles + 10; len(calls) > max {
		t.Errorf("diff made %d AWS calls for %d roles, want <= %d: %v", len(calls), roles, max, calls)
	}
	if took > 20*time.Second {
		t.Errorf("diff took %s", took)
	}
}
