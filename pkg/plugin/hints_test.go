package plugin

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/identityset"
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

// TestSetLinesAreBounded: a hostile value (a 1 MiB annotation, ServiceAccount name or ARN in a file) comes out
// escaped and cut in apply's, diff's and export's human lines and in the file problems.
func TestSetLinesAreBounded(t *testing.T) {
	huge := strings.Repeat("\x1b[31mA", 200_000)
	var out bytes.Buffer
	printSetNotes(&out, &api.SetResult{Info: []string{"role r: " + huge}, Hints: []string{huge}})
	_ = identityFileError(&identityset.Problems{{Source: identityset.Source{File: "f.yaml"}, Field: "spec.roles[0].serviceAccounts[0]", Message: huge}}, &out)
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if n := utf8.RuneCountInString(line); n > maxLineRunes+20 || strings.Contains(line, "\x1b") {
			t.Errorf("a line of %d runes (escape sequences: %v): %.80q", n, strings.Contains(line, "\x1b"), line)
		}
	}
	if strings.Count(out.String(), "\n") != 3 {
		t.Errorf("want 3 lines: %q", out.String())
	}
}
