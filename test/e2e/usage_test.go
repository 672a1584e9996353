package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// oneErrorLine fails unless r exited code with exactly one stderr line, "error: ...", holding every want.
func oneErrorLine(t *testing.T, what string, r result, code int, want ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	ok := r.code == code && len(lines) == 1 && strings.HasPrefix(lines[0], "error: ")
	for _, w := range want {
		ok = ok && strings.Contains(lines[0], w)
	}
	if !ok {
		t.Errorf("%s: want exit %d and one error line with %q, got %s", what, code, want, r)
	}
}

// TestUsageErrorsThroughKubectl: through the real kubectl's plugin dispatch, every usage error of every command
// exits 2 with one line that points at the command's --help, and calls neither AWS nor the cluster's writes.
func TestUsageErrorsThroughKubectl(t *testing.T) {
	for _, tc := range []struct {
		args []string
		help string
	}{
		{[]string{"bogus"}, "kubectl irsa"},
		{[]string{"--bogus"}, "kubectl irsa"},
		{[]string{"role", "bogus"}, "kubectl irsa role"},
		{[]string{"provider", "create", "extra"}, "kubectl irsa provider create"},
		{[]string{"role", "create", "r"}, "kubectl irsa role create"},
		{[]string{"link"}, "kubectl irsa link"},
		{[]string{"link", "app", "-n", "default", "--role-name", "a", "--role-arn", "arn:aws:iam::" + account + ":role/a"}, "kubectl irsa link"},
		{[]string{"unlink", "--bogus"}, "kubectl irsa unlink"},
		{[]string{"annotate", "app", "-n", "default"}, "kubectl irsa annotate"},
		{[]string{"migrate", "-n", "default"}, "kubectl irsa migrate"},
		{[]string{"doctor", "a", "b"}, "kubectl irsa doctor"},
		{[]string{"doctor", "--tail", "abc"}, "kubectl irsa doctor"},
		{[]string{"test"}, "kubectl irsa test"},
		{[]string{"list", "extra"}, "kubectl irsa list"},
		{[]string{"list", "-o", "xml"}, "kubectl irsa list"},
		{[]string{"audit", "-o", "name"}, "kubectl irsa audit"},
		{[]string{"issuer", "extra"}, "kubectl irsa issuer"},
		{[]string{"version", "-o", "name"}, "kubectl irsa version"},
		{[]string{"completion", "tcsh"}, "kubectl irsa completion"},
		{[]string{"help", "bogus"}, "kubectl irsa"},
	} {
		counter.Reset()
		r := irsaCmd(t, tc.args...)
		oneErrorLine(t, strings.Join(tc.args, " "), r, 2, "see '"+tc.help+" --help'")
		if c := counter.Calls(); len(c) != 0 {
			t.Errorf("%v: AWS calls %v", tc.args, c)
		}
	}
	if r := irsaCmd(t, "role"); r.code != 0 || !strings.Contains(r.stdout, "Available Commands:") {
		t.Errorf("role alone: %s", r)
	}
}

// TestKubeconfigAndMissingNamespace: a kubeconfig that cannot be used is named in one line, exit 2, before any
// request; a namespace or ServiceAccount that does not exist is said as such, exit 2, not diagnosed or listed
// as empty.
func TestKubeconfigAndMissingNamespace(t *testing.T) {
	for _, args := range [][]string{{"list"}, {"doctor", "app", "-n", "default"}, {"link", "app", "-n", "default"}, {"test", "app", "-n", "default"}} {
		counter.Reset()
		r := kubectl(t, env("KUBECONFIG=/nonexistent/kubeconfig"), append([]string{"irsa"}, args...)...)
		oneErrorLine(t, "KUBECONFIG missing: "+strings.Join(args, " "), r, 2, "kubeconfig: ", "/nonexistent/kubeconfig (does not exist)", "--kubeconfig")
		if strings.Contains(r.stderr, "issuer") || len(counter.Calls()) != 0 {
			t.Errorf("%v: %s, AWS calls %v", args, r, counter.Calls())
		}
	}
	r := kubectl(t, env(), "irsa", "list", "--context", "nope")
	oneErrorLine(t, "unknown context", r, 2, "kubeconfig: ", "nope")

	ns := "usage-present"
	createNamespace(t, ns)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"doctor", "app", "-n", "usage-missing"}, `namespace "usage-missing" not found`},
		{[]string{"doctor", "-n", "usage-missing"}, `namespace "usage-missing" not found`},
		{[]string{"list", "-n", "usage-missing"}, `namespace "usage-missing" not found`},
		{[]string{"audit", "-n", "usage-missing"}, `namespace "usage-missing" not found`},
		{[]string{"doctor", "nobody", "-n", ns}, "serviceaccount nobody not found in namespace " + ns},
	} {
		r := irsaCmd(t, tc.args...)
		oneErrorLine(t, strings.Join(tc.args, " "), r, 2, tc.want, "-n picks the namespace")
		if r.stdout != "" || strings.Contains(r.stderr, "NotAnnotated") {
			t.Errorf("%v: %s", tc.args, r)
		}
	}
	if r := irsaCmd(t, "list", "-n", ns); r.code != 0 || !strings.Contains(r.stdout, "No ServiceAccounts with IAM roles found") {
		t.Errorf("list of an empty namespace: %s", r)
	}
}

// TestYAMLOutputReadsInPyYAML: link's -o yaml result of an unchanged link holds op "=" quoted, which PyYAML
// (a YAML 1.1 reader; the sandbox's moto needs Python) reads back; a plain = made safe_load fail.
func TestYAMLOutputReadsInPyYAML(t *testing.T) {
	ns := "usage-yaml"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)
	mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--role-name", "usage-yaml-role"))
	r := mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--role-name", "usage-yaml-role", "-o", "yaml"))
	if !strings.Contains(r.stdout, `op: "="`) || strings.Contains(r.stdout, "op: =\n") {
		t.Errorf("op not quoted:\n%s", r.stdout)
	}
	if exec.Command("python3", "-c", "import yaml").Run() != nil {
		t.Skip("python3 with PyYAML not available")
	}
	py := exec.Command("python3", "-c", "import sys, yaml; d = yaml.safe_load(sys.stdin); assert all(a['op'] == '=' for a in d['actions']), d")
	py.Stdin = strings.NewReader(r.stdout)
	if out, err := py.CombinedOutput(); err != nil {
		t.Errorf("PyYAML: %v\n%s\n%s", err, out, r.stdout)
	}
}

// TestTestPodIdentityTargetRole: an association whose targetRoleArn names no role fails test with
// PodIdentityTargetRoleMissing before EKS Auth is asked; once the target role exists (trusting the association's
// role), the emulated EKS Auth chains into it and test passes as the target role.
func TestTestPodIdentityTargetRole(t *testing.T) {
	ns := "usage-pi-target"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)
	cleanupAssociations(t, ns)
	t.Cleanup(func() { deleteRoleIfExists(t, "usage-pi-source"); deleteRoleIfExists(t, "usage-pi-target") })
	target := "arn:aws:iam::" + account + ":role/usage-pi-target"
	mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--pod-identity", "--role-name", "usage-pi-source"))
	a := association(t, ns, "app")
	if a == nil {
		t.Fatal("no association")
	}
	ctx := context.Background()
	if _, err := eksClient().UpdatePodIdentityAssociation(ctx, &eks.UpdatePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName),
		AssociationId: a.Association.AssociationId, TargetRoleArn: aws.String(target)}); err != nil {
		t.Fatal(err)
	}
	counter.Reset()
	r := irsaCmd(t, "test", "app", "-n", ns)
	if r.code != 1 || !strings.Contains(r.stdout, "PodIdentityTargetRoleMissing") || !strings.Contains(r.stderr, "PodIdentityTargetRoleMissing") ||
		countCalls("eks-auth:AssumeRoleForPodIdentity") != 0 {
		t.Errorf("missing target: %s (calls %v)", r, counter.Calls())
	}
	source := "arn:aws:iam::" + account + ":role/usage-pi-source"
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + source + `"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
	if _, err := iamClient.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("usage-pi-target"), AssumeRolePolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	r = irsaCmd(t, "test", "app", "-n", ns)
	if r.code != 0 || !strings.Contains(r.stdout, "PASS") || !strings.Contains(r.stdout, "assumed-role/usage-pi-target/") || !strings.Contains(r.stdout, "target role: "+target) {
		t.Errorf("target exists: %s", r)
	}
}
