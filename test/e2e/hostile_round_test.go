package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/rolelock"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// The hostile round's findings (issue 24) that were unit-tested only, through the real kubectl.

// TestMigrationKilledBeforeVerificationIsShown (item 3): a migrate killed after the association was created and
// before it was verified leaves a live, unverified association; list shows it as such (exit 1) and doctor names
// it with the command that resumes; the re-run verifies it and both are clean again.
func TestMigrationKilledBeforeVerificationIsShown(t *testing.T) {
	ns, sa, role := "hr-mig-killed", "web", "hr-mig-killed"
	createNamespace(t, ns)
	cleanupAssociations(t, ns)
	installAgent(t)
	createServiceAccount(t, ns, sa, nil)
	createRole(t, role, `{"Version":"2012-10-17","Statement":[`+ec2Statement+`]}`)
	mustSucceed(t, irsaCmd(t, "link", sa, "-n", ns, "--role-name", role))

	signalledDuring(t, syscall.SIGKILL, "eks-auth:AssumeRoleForPodIdentity", "", "migrate", sa, "-n", ns)
	if association(t, ns, sa) == nil || !strings.Contains(migrationRecord(t, ns, sa), setup.StepAssociated) {
		t.Fatalf("killed during verification: association %v, record %q", association(t, ns, sa), migrationRecord(t, ns, sa))
	}
	resume := "kubectl irsa migrate " + sa + " -n " + ns
	r := irsaCmd(t, "list", "-n", ns)
	if r.code != 1 || !strings.Contains(r.stdout, "migrating (unverified)") || !strings.Contains(r.stderr, resume) {
		t.Errorf("list of an unverified migration: %s", r)
	}
	r = irsaCmd(t, "doctor", sa, "-n", ns)
	if r.code != 1 || !strings.Contains(r.stdout, "MigrationUnverified") || !strings.Contains(r.stdout, resume) {
		t.Errorf("doctor of an unverified migration: %s", r)
	}
	mustSucceed(t, irsaCmd(t, "migrate", sa, "-n", ns))
	r = mustSucceed(t, irsaCmd(t, "list", "-n", ns))
	if strings.Contains(r.stdout, "unverified") || !strings.Contains(migrationRecord(t, ns, sa), setup.StepVerified) {
		t.Errorf("after the re-run: record %q\n%s", migrationRecord(t, ns, sa), r)
	}
	if r = irsaCmd(t, "doctor", sa, "-n", ns); strings.Contains(r.stdout, "MigrationUnverified") {
		t.Errorf("doctor after the re-run: %s", r)
	}
}

// TestNoPermissionOutlivesItsLink (items 5, 6, 14): unlink --pod-identity removes the ServiceAccount's permission
// statement, so the next ServiceAccount on the role does not inherit it; re-linking an annotated ServiceAccount
// to add a permission (link --help's third example) keeps its role; unlink is idempotent; the last subject of a
// role kubectl irsa created is refused without --delete-role, with the command that deletes it; the role's Lease
// goes with the role.
func TestNoPermissionOutlivesItsLink(t *testing.T) {
	ns := "hr-perms"
	createNamespace(t, ns)
	cleanupAssociations(t, ns)
	installAgent(t)
	for _, sa := range []string{"pi-a", "pi-b", "app", "other"} {
		createServiceAccount(t, ns, sa, nil)
	}
	t.Cleanup(func() { deleteRoleWithPolicies(t, "hr-perms-pi"); deleteRoleWithPolicies(t, "hr-perms-irsa") })

	// Item 5.
	mustSucceed(t, irsaCmd(t, "link", "pi-a", "-n", ns, "--pod-identity", "--role-name", "hr-perms-pi", "--allow", "s3:DeleteObject"))
	if !strings.Contains(rolePolicy(t, "hr-perms-pi"), "s3:DeleteObject") {
		t.Fatalf("link --pod-identity --allow wrote no statement: %q", rolePolicy(t, "hr-perms-pi"))
	}
	mustSucceed(t, irsaCmd(t, "link", "pi-b", "-n", ns, "--pod-identity", "--role-name", "hr-perms-pi", "--allow", "s3:GetObject"))
	mustSucceed(t, irsaCmd(t, "unlink", "pi-a", "-n", ns, "--pod-identity"))
	if p := rolePolicy(t, "hr-perms-pi"); strings.Contains(p, "s3:DeleteObject") || !strings.Contains(p, "s3:GetObject") {
		t.Errorf("after unlink --pod-identity of pi-a the role's policy is %s: want pi-b's statement only", p)
	}

	// Item 6: link --help's first and third examples, one after the other.
	mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--role-name", "hr-perms-irsa", "--allow", "s3:GetObject"))
	r := mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--allow", "s3:GetObject", "--allow", "s3:PutObject"))
	if got := roleAnnotation(t, ns, "app"); !strings.HasSuffix(got, ":role/hr-perms-irsa") {
		t.Errorf("re-link moved the ServiceAccount to %q: %s", got, r)
	}
	if p := rolePolicy(t, "hr-perms-irsa"); !strings.Contains(p, "s3:PutObject") {
		t.Errorf("re-link did not add the permission: %s", p)
	}

	// Item 14.
	mustSucceed(t, irsaCmd(t, "link", "other", "-n", ns, "--role-name", "hr-perms-irsa"))
	mustSucceed(t, irsaCmd(t, "unlink", "other", "-n", ns))
	r = mustSucceed(t, irsaCmd(t, "unlink", "other", "-n", ns))
	if !strings.Contains(r.stdout, "nothing to do") {
		t.Errorf("second unlink: %s", r)
	}
	r = irsaCmd(t, "unlink", "app", "-n", ns)
	if r.code == 0 || !strings.Contains(r.stderr, "kubectl irsa unlink app -n "+ns+" --delete-role") || roleAnnotation(t, ns, "app") == "" {
		t.Errorf("unlink of the last subject of a role kubectl irsa created: %s", r)
	}
	arn := iamref.RoleARN("aws", sandbox.Account, "/", "hr-perms-irsa")
	if _, err := kube.CoordinationV1().Leases(rolelock.DefaultNamespace).Get(context.Background(), rolelock.LeaseName(arn), metav1.GetOptions{}); err != nil {
		t.Fatalf("no Lease for a role kubectl irsa wrote: %v", err)
	}
	mustSucceed(t, irsaCmd(t, "unlink", "app", "-n", ns, "--delete-role"))
	if roleTrust(t, "hr-perms-irsa") != nil {
		t.Error("role not deleted")
	}
	if _, err := kube.CoordinationV1().Leases(rolelock.DefaultNamespace).Get(context.Background(), rolelock.LeaseName(arn), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the deleted role's Lease is left (err %v)", err)
	}
}

// TestHostileUsageRefused (items 10, 11, 13): a match after the first MiB of a long line is found; migrate --all
// in a namespace that does not exist names it (exit 2); flags that do not apply, a trust size limit <= 0 and a
// malformed jsonpath are usage errors with no AWS call; --dry-run takes kubectl's values.
func TestHostileUsageRefused(t *testing.T) {
	ns := "hr-usage"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)

	// Item 10.
	logFile := filepath.Join(t.TempDir(), "long.log")
	line := strings.Repeat("x", 1<<20+4096) + ` operation error S3: GetObject, https response error StatusCode: 403, RequestID: 1, api error AccessDenied: User: arn:aws:sts::` + sandbox.Account + `:assumed-role/node-role/i-0abc is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::bucket/key" because no identity-based policy allows the s3:GetObject action` + "\n"
	if err := os.WriteFile(logFile, []byte("start\n"+line+"end\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := irsaCmd(t, "doctor", "app", "-n", ns, "--logs-file", logFile)
	if r.code != 1 || !strings.Contains(r.stdout, "s3:GetObject") {
		t.Errorf("doctor of a match after the first MiB of a line: %s", r)
	}

	// Item 11.
	r = irsaCmd(t, "migrate", "--all", "-n", "hr-no-such-namespace")
	if r.code != 2 || !strings.Contains(r.stderr, "hr-no-such-namespace") {
		t.Errorf("migrate --all in a missing namespace: %s", r)
	}

	// Item 13.
	counter.Reset()
	for _, args := range [][]string{
		{"link", "app", "-n", ns, "--role-name", "hr-usage", "--target-role-arn", "arn:aws:iam::" + sandbox.Account + ":role/target"},
		{"link", "app", "-n", ns, "--role-name", "hr-usage", "--disable-session-tags"},
		{"link", "app", "-n", ns, "--role-name", "hr-usage", "--trust-size-limit", "0"},
		{"link", "app", "-n", ns, "--role-name", "hr-usage", "--trust-size-limit", "-5"},
		{"list", "-n", ns, "-o", "jsonpath={.items[0"},
	} {
		if r := irsaCmd(t, args...); r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
			t.Errorf("%v: want a one-line usage error, exit 2: %s", args, r)
		}
	}
	if w := counter.Writes(); len(w) != 0 {
		t.Errorf("refused flags wrote %v", w)
	}
	for _, v := range []string{"client", "server", "none"} {
		r := irsaCmd(t, "link", "app", "-n", ns, "--role-name", "hr-usage", "--dry-run="+v)
		if v != "none" && (r.code != 0 || roleTrust(t, "hr-usage") != nil) {
			t.Errorf("--dry-run=%s: %s", v, r)
		}
		if v == "none" {
			mustSucceed(t, r)
			deleteRoleWithPolicies(t, "hr-usage")
		}
	}
}
