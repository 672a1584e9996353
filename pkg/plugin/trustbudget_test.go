package plugin_test

import (
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
)

// TestTrustBudgetMissingRoleIsExit2: a role that does not exist is a run that could not complete (exit 2), never
// exit 1, which says a role is over its quota.
func TestTrustBudgetMissingRoleIsExit2(t *testing.T) {
	tf := plugintest.NewFactory()
	_, errOut, code := tf.Run("trust", "budget", "no-such-role")
	if code != 2 || !strings.Contains(errOut, "no-such-role") || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
		t.Errorf("trust budget of a missing role: exit %d: %s", code, errOut)
	}
}
