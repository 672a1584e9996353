package plugin_test

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
)

// TestUsageErrorsExit2: every usage error of every command (unknown command or flag, wrong number of
// arguments, invalid flag value, flags that do not go together) exits 2 with one line that says where to look,
// and makes no Kubernetes or AWS call.
func TestUsageErrorsExit2(t *testing.T) {
	for _, tc := range []struct {
		args []string
		// help is the command whose --help the line points at.
		help string
	}{
		{[]string{"bogus"}, "kubectl irsa"},
		{[]string{"lst"}, "kubectl irsa"},
		{[]string{"--no-such-flag"}, "kubectl irsa"},
		{[]string{"role", "bogus"}, "kubectl irsa role"},
		{[]string{"provider", "bogus"}, "kubectl irsa provider"},
		{[]string{"role", "create"}, "kubectl irsa role create"},
		{[]string{"role", "create", "r", "--service-account", "no-slash"}, "kubectl irsa role create"},
		{[]string{"role", "create", "r", "--service-account", "a/b", "-o", "xml"}, "kubectl irsa role create"},
		{[]string{"provider", "create", "extra"}, "kubectl irsa provider create"},
		{[]string{"provider", "create", "--bogus"}, "kubectl irsa provider create"},
		{[]string{"link"}, "kubectl irsa link"},
		{[]string{"link", "a", "b"}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "--bogus"}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "--role-name", "r", "--role-arn", "arn:aws:iam::123456789012:role/r"}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "--trust-size-limit", "many"}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "--role-arn", "not-an-arn"}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "--pod-identity", "--role-name", "r", "--create-service-account"}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "--pod-identity", "--role-name", "r", "--target-role-arn", "nope"}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "--target-role-arn", "arn:aws:iam::222222222222:role/t"}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "--disable-session-tags"}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "--pod-identity", "--create-service-account"}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "--trust-size-limit", "0"}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "--trust-size-limit", "-5"}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "--dry-run=maybe"}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "-o", "jsonpath={.items["}, "kubectl irsa link"},
		{[]string{"link", saName, "-n", ns, "-o", "go-template={{.x"}, "kubectl irsa link"},
		{[]string{"role", "create", "r", "--service-account", "a/b", "--trust-size-limit", "0"}, "kubectl irsa role create"},
		{[]string{"unlink"}, "kubectl irsa unlink"},
		{[]string{"unlink", "Bad_Name", "-n", ns}, "kubectl irsa unlink"},
		{[]string{"annotate", saName, "-n", ns}, "kubectl irsa annotate"},
		{[]string{"annotate", saName, "-n", ns, "--role-arn", "nope"}, "kubectl irsa annotate"},
		{[]string{"migrate", "-n", ns}, "kubectl irsa migrate"},
		{[]string{"migrate", saName, "-n", ns, "--all"}, "kubectl irsa migrate"},
		{[]string{"migrate", saName, "-n", ns, "--rollback", "--remove-irsa"}, "kubectl irsa migrate"},
		{[]string{"doctor", "a", "b"}, "kubectl irsa doctor"},
		{[]string{"doctor", "-A", saName}, "kubectl irsa doctor"},
		{[]string{"doctor", "--tail", "abc"}, "kubectl irsa doctor"},
		{[]string{"doctor", "replicaset/x"}, "kubectl irsa doctor"},
		{[]string{"test"}, "kubectl irsa test"},
		{[]string{"test", "a", "b"}, "kubectl irsa test"},
		{[]string{"test", saName, "-n", ns, "--timeout", "soon"}, "kubectl irsa test"},
		{[]string{"test", saName, "-n", ns, "-o", "bogus"}, "kubectl irsa test"},
		{[]string{"list", "extra"}, "kubectl irsa list"},
		{[]string{"list", "-o", "xml"}, "kubectl irsa list"},
		{[]string{"list", "-n"}, "kubectl irsa list"},
		{[]string{"audit", "extra"}, "kubectl irsa audit"},
		{[]string{"audit", "-o", "xml"}, "kubectl irsa audit"},
		{[]string{"issuer", "extra"}, "kubectl irsa issuer"},
		{[]string{"version", "-o", "xml"}, "kubectl irsa version"},
		{[]string{"version", "extra"}, "kubectl irsa version"},
		{[]string{"completion"}, "kubectl irsa completion"},
		{[]string{"completion", "tcsh"}, "kubectl irsa completion"},
		{[]string{"help", "bogus"}, "kubectl irsa"},
		{[]string{"help", "role", "bogus"}, "kubectl irsa"},
	} {
		tf := plugintest.NewFactory(plugintest.Namespace(ns), plugintest.ServiceAccount(ns, saName, nil))
		out, errOut, code := tf.Run(tc.args...)
		want := "; see '" + tc.help + " --help'"
		if code != 2 || !strings.HasPrefix(errOut, "error: ") || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, want) {
			t.Errorf("%v: exit %d, stderr %q, want exit 2 and one line with %q", tc.args, code, errOut, want)
		}
		if out != "" {
			t.Errorf("%v: stdout %q", tc.args, out)
		}
		if calls := tf.Cloud.Calls(); len(calls) != 0 || len(tf.Kube.Actions()) != 0 {
			t.Errorf("%v: AWS calls %v, Kubernetes requests %d", tc.args, calls, len(tf.Kube.Actions()))
		}
	}
}

// TestGroupCommandsAlone: a command that only groups subcommands prints its help and exits 0 when run alone.
func TestGroupCommandsAlone(t *testing.T) {
	for _, args := range [][]string{{}, {"role"}, {"provider"}} {
		out, errOut, code := seed().Run(args...)
		if code != 0 || !strings.Contains(out, "Available Commands:") || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %.100q", args, code, errOut, out)
		}
	}
}

// TestHelpCommand: help COMMAND prints that command's help and exits 0.
func TestHelpCommand(t *testing.T) {
	out, errOut, code := seed().Run("help", "role", "create")
	if code != 0 || !strings.Contains(out, "kubectl irsa role create NAME") || errOut != "" {
		t.Errorf("exit %d, stderr %q, stdout %.200q", code, errOut, out)
	}
	out, _, _ = seed().Run("__complete", "help", "ro")
	if !strings.Contains(out, "role\t") {
		t.Errorf("__complete help ro: %q", out)
	}
}

// TestUnknownCommandSuggests: a misspelt subcommand names the one meant.
func TestUnknownCommandSuggests(t *testing.T) {
	_, errOut, _ := seed().Run("doctr")
	if !strings.Contains(errOut, `did you mean doctor?`) {
		t.Errorf("stderr %q", errOut)
	}
}

// TestMissingNamespaceOrServiceAccount: doctor, list and audit asked about a namespace or ServiceAccount that
// does not exist say so in one line and exit 2; they do not diagnose it (NotAnnotated) or list nothing and
// pass.
func TestMissingNamespaceOrServiceAccount(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"doctor", saName, "-n", "missing"}, `namespace "missing" not found`},
		{[]string{"doctor", "-n", "missing"}, `namespace "missing" not found`},
		{[]string{"doctor", "deployment/web", "-n", "missing"}, `namespace "missing" not found`},
		{[]string{"doctor", "nobody", "-n", ns}, "serviceaccount nobody not found in namespace " + ns},
		{[]string{"list", "-n", "missing"}, `namespace "missing" not found`},
		{[]string{"audit", "-n", "missing"}, `namespace "missing" not found`},
		{[]string{"test", saName, "-n", "missing"}, `namespace "missing" not found`},
		{[]string{"test", "nobody", "-n", ns}, "serviceaccount " + ns + "/nobody not found"},
	} {
		tf, _ := linked()
		out, errOut, code := tf.Run(tc.args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "-n picks the namespace") || strings.Contains(errOut, "NotAnnotated") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, code, out, errOut)
		}
	}
	// A namespace that exists but has nothing to list is clean.
	tf, _ := linked()
	tf.Kube.CoreV1().Namespaces().Create(t.Context(), plugintest.Namespace("empty"), metav1.CreateOptions{})
	if out, errOut, code := tf.Run("list", "-n", "empty"); code != 0 || !strings.Contains(out, "No ServiceAccounts with IAM roles found") {
		t.Errorf("empty namespace: exit %d, %s%s", code, out, errOut)
	}
}

// TestDryRunTakesKubectlValues: --dry-run takes kubectl's none|client|server (bare: client) and true/false; every
// value but none and false writes nothing.
func TestDryRunTakesKubectlValues(t *testing.T) {
	for _, tc := range []struct {
		flag   string
		writes bool
	}{{"--dry-run", false}, {"--dry-run=client", false}, {"--dry-run=server", false}, {"--dry-run=true", false}, {"--dry-run=none", true}, {"--dry-run=false", true}} {
		tf := seed()
		_, errOut, code := tf.Run("link", saName, "-n", ns, "--role-name", "r", "--allow", "s3:GetObject", tc.flag)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", tc.flag, code, errOut)
		}
		if wrote := len(tf.Cloud.Writes()) > 0; wrote != tc.writes {
			t.Errorf("%s: writes %v, want writes=%v", tc.flag, tf.Cloud.Writes(), tc.writes)
		}
	}
}

// TestOutputTemplateParseErrors: a malformed jsonpath or go-template is reported with kubectl's parse error, not as
// an unsupported format.
func TestOutputTemplateParseErrors(t *testing.T) {
	for _, tc := range []struct{ format, want string }{
		{"jsonpath={.items[", "error parsing jsonpath {.items["},
		{"go-template={{.x", "error parsing template {{.x"},
	} {
		_, errOut, code := seed().Run("version", "-o", tc.format)
		if code != 2 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "unsupported output format") {
			t.Errorf("-o %s: exit %d, stderr %q, want %q", tc.format, code, errOut, tc.want)
		}
	}
}

// TestHintsNameOnlyTheCommandsFlags: unlink and annotate of a missing ServiceAccount do not point at
// --create-service-account, which only link has.
func TestHintsNameOnlyTheCommandsFlags(t *testing.T) {
	for _, args := range [][]string{
		{"unlink", "nobody", "-n", ns},
		{"annotate", "nobody", "-n", ns, "--role-arn", "arn:aws:iam::123456789012:role/r"},
	} {
		_, errOut, _ := seed().Run(args...)
		if !strings.Contains(errOut, "not found") || strings.Contains(errOut, "--create-service-account") {
			t.Errorf("%v: stderr %q", args, errOut)
		}
	}
	if _, errOut, _ := seed().Run("link", "nobody", "-n", ns); !strings.Contains(errOut, "--create-service-account") {
		t.Errorf("link: stderr %q, want the --create-service-account hint", errOut)
	}
}
