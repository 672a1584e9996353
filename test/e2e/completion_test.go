package e2e

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin"
)

// completion is the parsed output of a cobra completion request: the offered words, their descriptions,
// and the directive (the ":N" last line).
type completion struct {
	words     []string
	desc      map[string]string
	directive string
}

// names are the offered words that are not flags (cobra also offers a command's required flags).
func (c completion) names() []string {
	return slices.DeleteFunc(slices.Clone(c.words), func(w string) bool { return strings.HasPrefix(w, "-") })
}

func parseCompletion(t *testing.T, out string) completion {
	t.Helper()
	c := completion{desc: map[string]string{}}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
		t.Fatalf("completion output has no directive line:\n%s", out)
	}
	c.directive = lines[len(lines)-1]
	for _, line := range lines[:len(lines)-1] {
		word, desc, _ := strings.Cut(line, "\t")
		if word == "default" {
			// The ServiceAccount controller, when a sandbox runs one, adds "default" to every namespace.
			continue
		}
		c.words = append(c.words, word)
		c.desc[word] = desc
	}
	return c
}

// completionSetup creates a namespace with ServiceAccounts, one of them linked, for the completion tests.
var completionSetup sync.Once

const completionNS = "completion-ns"

var completionSAs = []string{"app-one", "app-two", "batch"}

const completionRoleARN = "arn:aws:iam::123456789012:role/app-two-role"

func setupCompletion(t *testing.T) {
	t.Helper()
	completionSetup.Do(func() {
		createNamespace(t, completionNS)
		for _, sa := range completionSAs {
			var annotations map[string]string
			if sa == "app-two" {
				annotations = map[string]string{iamref.RoleARNAnnotation: completionRoleARN}
			}
			createServiceAccount(t, completionNS, sa, annotations)
		}
	})
}

// subcommands lists the plugin's subcommands as this build has them (others are added over time).
func subcommands() []string {
	root := plugin.NewCmdIRSA(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: io.Discard, ErrOut: io.Discard})
	var names []string
	for _, c := range root.Commands() {
		names = append(names, c.Name())
	}
	return names
}

// TestCompletionSubcommands completes `kubectl irsa li<TAB>` through kubectl's plugin dispatch.
func TestCompletionSubcommands(t *testing.T) {
	c := parseCompletion(t, mustSucceed(t, irsaCmd(t, "__complete", "li")).stdout)
	want := []string{"link"}
	if slices.Contains(subcommands(), "list") {
		want = append(want, "list")
	}
	if !slices.Equal(c.words, want) {
		t.Errorf("kubectl irsa __complete li offers %v, want %v", c.words, want)
	}
	if c.directive != ":4" {
		t.Errorf("directive %s, want :4 (no file completion)", c.directive)
	}

	// cobra's own completion command is replaced by kubectl irsa's, not doubled.
	c = parseCompletion(t, mustSucceed(t, irsaCmd(t, "__complete", "comp")).stdout)
	if !slices.Equal(c.words, []string{"completion"}) {
		t.Errorf("kubectl irsa __complete comp offers %v, want [completion]", c.words)
	}
	c = parseCompletion(t, mustSucceed(t, irsaCmd(t, "__complete", "completion", "")).stdout)
	if !slices.Equal(c.words, []string{"bash", "zsh", "fish", "powershell"}) {
		t.Errorf("kubectl irsa __complete completion '' offers %v", c.words)
	}
	if r := mustSucceed(t, irsaCmd(t, "completion", "bash")); !strings.Contains(r.stdout, "__start_kubectl-irsa") {
		t.Errorf("kubectl irsa completion bash is not a bash completion script for kubectl-irsa:\n%.300s", r.stdout)
	}
}

// TestCompletionServiceAccounts completes the ServiceAccount argument and -n from the sandbox cluster.
func TestCompletionServiceAccounts(t *testing.T) {
	setupCompletion(t)
	for _, cmd := range []string{"link", "unlink", "annotate", "test", "doctor"} {
		if !slices.Contains(subcommands(), cmd) {
			t.Logf("no %s command in this build", cmd)
			continue
		}
		c := parseCompletion(t, mustSucceed(t, irsaCmd(t, "__complete", cmd, "-n", completionNS, "")).stdout)
		if !slices.Equal(c.names(), completionSAs) {
			t.Errorf("kubectl irsa __complete %s -n %s '' offers %v, want %v", cmd, completionNS, c.names(), completionSAs)
		}
	}

	c := parseCompletion(t, mustSucceed(t, irsaCmd(t, "__complete", "link", "-n", completionNS, "app-")).stdout)
	if !slices.Equal(c.words, []string{"app-one", "app-two"}) {
		t.Errorf("prefix app- offers %v, want [app-one app-two]", c.words)
	}
	if c.desc["app-two"] != completionRoleARN || c.desc["app-one"] != "not linked to an IAM role" {
		t.Errorf("descriptions %v: want the role annotation of app-two and 'not linked' for app-one", c.desc)
	}
	if c.directive != ":4" {
		t.Errorf("directive %s, want :4 (no file completion)", c.directive)
	}
	// Only the first argument is a ServiceAccount.
	c = parseCompletion(t, mustSucceed(t, irsaCmd(t, "__complete", "link", "-n", completionNS, "app-one", "")).stdout)
	if len(c.words) != 0 {
		t.Errorf("a second argument offers %v, want nothing", c.words)
	}

	c = parseCompletion(t, mustSucceed(t, irsaCmd(t, "__complete", "link", "-n", "")).stdout)
	if !slices.Contains(c.words, completionNS) || !slices.Contains(c.words, "kube-system") {
		t.Errorf("-n offers %v, want the cluster's namespaces", c.words)
	}
	c = parseCompletion(t, mustSucceed(t, irsaCmd(t, "__complete", "link", "--namespace", "comp")).stdout)
	if !slices.Equal(c.words, []string{completionNS}) {
		t.Errorf("--namespace comp offers %v, want [%s]", c.words, completionNS)
	}
}

var buildCompleter sync.Once

// completer builds kubectl_complete-irsa into pluginDir, next to kubectl-irsa, where kubectl looks for it.
func completer(t *testing.T) string {
	t.Helper()
	path := filepath.Join(pluginDir, "kubectl_complete-irsa")
	buildCompleter.Do(func() {
		build := exec.Command("go", "build", "-o", path, "github.com/kubectl-irsa/kubectl-irsa/cmd/kubectl_complete-irsa")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			t.Fatalf("build kubectl_complete-irsa: %v", err)
		}
	})
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("kubectl_complete-irsa was not built: %v", err)
	}
	return path
}

// runCompleter runs kubectl_complete-irsa with args in the sandbox's environment.
func runCompleter(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(completer(t), args...)
	cmd.Env = env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl_complete-irsa %q: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

// TestCompletionExecutable checks kubectl_complete-irsa: called as kubectl calls it (the words after the plugin
// name), called with __complete, and through kubectl's own completion of `kubectl irsa ...`.
func TestCompletionExecutable(t *testing.T) {
	setupCompletion(t)
	for _, args := range [][]string{
		{"link", "-n", completionNS, ""},
		{"__complete", "link", "-n", completionNS, ""},
		{"__completeNoDesc", "link", "-n", completionNS, ""},
	} {
		c := parseCompletion(t, runCompleter(t, args...))
		if !slices.Equal(c.words, completionSAs) {
			t.Errorf("kubectl_complete-irsa %q offers %v, want %v", args, c.words, completionSAs)
		}
	}
	if c := parseCompletion(t, runCompleter(t, "li")); !slices.Contains(c.words, "link") {
		t.Errorf("kubectl_complete-irsa li offers %v, want link", c.words)
	}
	if c := parseCompletion(t, runCompleter(t, "")); !slices.Contains(c.words, "version") || !slices.Contains(c.words, "link") {
		t.Errorf("kubectl_complete-irsa '' offers %v, want the subcommands", c.words)
	}

	// What the shell does for `kubectl irsa link -n completion-ns <TAB>`: kubectl finds the plugin, runs
	// kubectl_complete-irsa from PATH and relays its answer.
	completer(t)
	r := mustSucceed(t, kubectl(t, env(), "__complete", "irsa", "link", "-n", completionNS, ""))
	if c := parseCompletion(t, r.stdout); !slices.Equal(c.words, completionSAs) || c.directive != ":4" {
		t.Errorf("kubectl __complete irsa link -n %s '' offers %v %s, want %v :4\nstderr: %s", completionNS, c.words, c.directive, completionSAs, r.stderr)
	}
	r = mustSucceed(t, kubectl(t, env(), "__complete", "irsa", "li"))
	if c := parseCompletion(t, r.stdout); !slices.Contains(c.words, "link") {
		t.Errorf("kubectl __complete irsa li offers %v, want link", c.words)
	}
	r = mustSucceed(t, kubectl(t, env(), "__complete", "irsa", "link", "--rol"))
	if c := parseCompletion(t, r.stdout); !slices.Contains(c.words, "--role-name") || !slices.Contains(c.words, "--role-arn") {
		t.Errorf("kubectl __complete irsa link --rol offers %v, want --role-name and --role-arn", c.words)
	}
}
