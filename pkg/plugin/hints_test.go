package plugin

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// TestHintsOfFileCommands: a command that reads IdentitySet files is pointed at the file's fields, never at
// flags it places nothing with (-n, --attach-policy-arn, --role-arn).
func TestHintsOfFileCommands(t *testing.T) {
	withFile := &cobra.Command{Use: "apply"}
	(&IdentityFiles{}).AddFlag(withFile.Flags())
	link := &cobra.Command{Use: "link"}
	link.Flags().Bool("create-service-account", false, "")
	for _, tc := range []struct {
		err            error
		file, withFlag string
	}{
		{setup.ErrNamespaceMissing, "fix the set's serviceAccounts", "-n"},
		{setup.ErrServiceAccountMissing, "fix the set's serviceAccounts", "--create-service-account"},
		{setup.ErrManagedPolicyMissing, "managedPolicies in the file", "--attach-policy-arn"},
		{setup.ErrRoleMissing, "arn in the file", "--role-arn"},
		{setup.ErrPolicyTooLarge, "managedPolicies", "--attach-policy-arn"},
	} {
		err := fmt.Errorf("something: %w", tc.err)
		got := withFlagHint(err, withFile).Error()
		if !strings.Contains(got, tc.file) || strings.Contains(got, " -n") || strings.Contains(got, "--") {
			t.Errorf("apply -f: %q, want the file's field (%s) and no flag", got, tc.file)
		}
		if got := withFlagHint(err, link).Error(); !strings.Contains(got, tc.withFlag) {
			t.Errorf("link: %q, want %s", got, tc.withFlag)
		}
	}
}
