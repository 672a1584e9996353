package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/rolelock"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// interruptedDuring runs `kubectl irsa ARGS` with the sandbox's proxy holding the AWS call op (of role, when
// set) for a few seconds, and sends SIGINT as that call arrives: the signal lands between two writes every
// time. It fails the test when the call never came.
func interruptedDuring(t *testing.T, op, role string, args ...string) result {
	t.Helper()
	return signalledDuring(t, syscall.SIGINT, op, role, args...)
}

// signalledDuring is interruptedDuring with another signal (SIGKILL: a run dying with no handler and no rollback).
func signalledDuring(t *testing.T, sig syscall.Signal, op, role string, args ...string) result {
	t.Helper()
	arrived, remove := sb.AWS.InjectDelay(sandbox.Delay{Operation: op, RoleName: role, Wait: 2 * time.Second})
	defer remove()
	cmd := exec.Command("kubectl", append([]string{"irsa"}, args...)...)
	cmd.Env = env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	signalled := make(chan bool, 1)
	go func() {
		select {
		case <-arrived:
			_ = cmd.Process.Signal(sig)
			signalled <- true
		case <-time.After(90 * time.Second):
			signalled <- false
		}
	}()
	err := cmd.Wait()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exit, ok := err.(*exec.ExitError); ok {
		r.code = exit.ExitCode()
	}
	select {
	case ok := <-signalled:
		if !ok {
			t.Fatalf("%s never reached the proxy: %s", op, r)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s never reached the proxy before the run ended: %s", op, r)
	}
	t.Logf("%s during %s: %s", sig, op, r)
	return r
}

// leftList is what an interrupted run printed as left ("" when it says nothing is).
func leftList(r result) string {
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, "ROLLBACK FAILED") || strings.Contains(l, "not reversible") || strings.Contains(l, "left as written") {
			return l
		}
	}
	return ""
}

// TestInterruptMidWriteLink: SIGINT while link's inline policy write is in flight (after the role was created):
// exit 130, the role rolled back (deleted with the policy), no annotation; a re-run links at once.
func TestInterruptMidWriteLink(t *testing.T) {
	ns, sa, role := "int-mid-link", "app", "int-mid-link"
	createNamespace(t, ns)
	createServiceAccount(t, ns, sa, nil)
	t.Cleanup(func() { deleteRoleIfExists(t, role) })
	r := interruptedDuring(t, "iam:PutRolePolicy", role, "link", sa, "-n", ns, "--role-name", role, "--allow", "s3:GetObject")
	if r.code != 130 || !strings.Contains(r.stderr, "interrupted") {
		t.Fatalf("want exit 130 saying interrupted: %s", r)
	}
	if left := leftList(r); left == "" {
		if roleTrust(t, role) != nil || roleAnnotation(t, ns, sa) != "" {
			t.Errorf("nothing said to be left, yet the role or the annotation stays: %s", r)
		}
	}
	start := time.Now()
	mustSucceed(t, irsaCmd(t, "link", sa, "-n", ns, "--role-name", role, "--allow", "s3:GetObject"))
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the re-run took %s: the lease was not released", d)
	}
	if _, ok := inlineStatements(t, role)[setup.PolicySid(ns, sa)]; !ok || roleAnnotation(t, ns, sa) == "" {
		t.Error("the re-run did not complete the link")
	}
}

// TestInterruptMidWriteUnlinkDeleteRole: SIGINT while unlink --delete-role deletes the role: the deletion cannot
// be undone, so the annotation that finds the role stays and the run says what is left; a re-run finishes, and
// the role's Lease goes with the role.
func TestInterruptMidWriteUnlinkDeleteRole(t *testing.T) {
	ns, sa, role := "int-mid-unlink", "app", "int-mid-unlink"
	createNamespace(t, ns)
	createServiceAccount(t, ns, sa, nil)
	t.Cleanup(func() { deleteRoleIfExists(t, role) })
	mustSucceed(t, irsaCmd(t, "link", sa, "-n", ns, "--role-name", role, "--allow", "s3:GetObject"))
	arn := roleAnnotation(t, ns, sa)
	r := interruptedDuring(t, "iam:DeleteRole", role, "unlink", sa, "-n", ns, "--delete-role")
	if r.code != 130 {
		t.Fatalf("want exit 130: %s", r)
	}
	annotated, exists := roleAnnotation(t, ns, sa) != "", roleTrust(t, role) != nil
	if !annotated && exists {
		t.Fatalf("the annotation is gone but role %s survives: %s", role, r)
	}
	if annotated && leftList(r) == "" {
		t.Errorf("the annotation stays but the run did not say what is left: %s", r)
	}
	mustSucceed(t, irsaCmd(t, "unlink", sa, "-n", ns, "--delete-role"))
	if roleTrust(t, role) != nil || roleAnnotation(t, ns, sa) != "" {
		t.Error("the re-run did not finish the unlink")
	}
	if _, err := kube.CoordinationV1().Leases(rolelock.DefaultNamespace).Get(context.Background(), rolelock.LeaseName(arn), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the deleted role's Lease stays (err %v)", err)
	}
}

// TestInterruptMidWriteLinkPodIdentity: SIGINT while link --pod-identity creates the association: the association
// made is deleted again, the created role too; a re-run completes the link.
func TestInterruptMidWriteLinkPodIdentity(t *testing.T) {
	ns, sa, role := "int-mid-pi", "app", "int-mid-pi"
	createNamespace(t, ns)
	cleanupAssociations(t, ns)
	installAgent(t)
	createServiceAccount(t, ns, sa, nil)
	t.Cleanup(func() { deleteRoleIfExists(t, role) })
	r := interruptedDuring(t, "eks:CreatePodIdentityAssociation", "", "link", sa, "-n", ns, "--pod-identity", "--role-name", role, "--allow", "s3:GetObject")
	if r.code != 130 {
		t.Fatalf("want exit 130: %s", r)
	}
	// The association is the last write: once it is done, the run says the link is complete (it was the step in
	// flight); otherwise nothing may be left unless the run says so.
	complete := strings.Contains(r.stderr, "interrupted after every write was done")
	if complete && association(t, ns, sa) == nil {
		t.Errorf("the run says the link is complete, yet there is no association: %s", r)
	}
	if !complete && leftList(r) == "" && (association(t, ns, sa) != nil || roleTrust(t, role) != nil) {
		t.Errorf("nothing said to be left, yet the association or the role stays: %s", r)
	}
	mustSucceed(t, irsaCmd(t, "link", sa, "-n", ns, "--pod-identity", "--role-name", role, "--allow", "s3:GetObject"))
	if association(t, ns, sa) == nil {
		t.Error("the re-run did not create the association")
	}
}

// TestInterruptMidWriteMigrate: SIGINT while migrate creates the association: rolled back to IRSA exactly (trust,
// no association, no migration record); a re-run migrates.
func TestInterruptMidWriteMigrate(t *testing.T) {
	ns, sa, role := "int-mid-mig", "web", "int-mid-mig"
	createNamespace(t, ns)
	cleanupAssociations(t, ns)
	installAgent(t)
	createServiceAccount(t, ns, sa, nil)
	createRole(t, role, `{"Version":"2012-10-17","Statement":[`+ec2Statement+`]}`)
	mustSucceed(t, irsaCmd(t, "link", sa, "-n", ns, "--role-name", role))
	former := trustString(t, role)
	r := interruptedDuring(t, "eks:CreatePodIdentityAssociation", "", "migrate", sa, "-n", ns)
	if r.code != 130 {
		t.Fatalf("want exit 130: %s", r)
	}
	if leftList(r) == "" {
		if got := trustString(t, role); got != former {
			t.Errorf("trust not rolled back:\n%s\nwant\n%s", got, former)
		}
		if association(t, ns, sa) != nil || migrationRecord(t, ns, sa) != "" {
			t.Errorf("association or migration record left, nothing said to be left: %s", r)
		}
	}
	mustSucceed(t, irsaCmd(t, "migrate", sa, "-n", ns))
	if a := association(t, ns, sa); a == nil || !strings.Contains(migrationRecord(t, ns, sa), setup.StepVerified) {
		t.Errorf("the re-run did not migrate: association %v, record %q", a, migrationRecord(t, ns, sa))
	}
}

func migrationRecord(t *testing.T, ns, name string) string {
	t.Helper()
	sa, err := kube.CoreV1().ServiceAccounts(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sa.Annotations[setup.MigrationAnnotation]
}

// TestStaleLeaseTakenOver: a Lease left by a killed run (holder gone, last renewed an hour ago) is taken over
// once expired, and the run names the holder it took it from.
func TestStaleLeaseTakenOver(t *testing.T) {
	ns, sa, role := "stale-lease", "app", "stale-lease"
	createNamespace(t, ns)
	createServiceAccount(t, ns, sa, nil)
	t.Cleanup(func() { deleteRoleIfExists(t, role) })
	arn := iamref.RoleARN("aws", sandbox.Account, "/", role)
	holder, dur := "laptop-4242-killed", int32(5)
	then := metav1.NewMicroTime(time.Now().Add(-time.Hour))
	_, err := kube.CoordinationV1().Leases(rolelock.DefaultNamespace).Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: rolelock.LeaseName(arn), Namespace: rolelock.DefaultNamespace},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, AcquireTime: &then, RenewTime: &then},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = kube.CoordinationV1().Leases(rolelock.DefaultNamespace).Delete(context.Background(), rolelock.LeaseName(arn), metav1.DeleteOptions{})
	})
	r := mustSucceed(t, irsaCmd(t, "link", sa, "-n", ns, "--role-name", role, "--allow", "s3:GetObject"))
	if !strings.Contains(r.stderr, "taking over lease") || !strings.Contains(r.stderr, holder) {
		t.Errorf("no message naming the holder taken over: %s", r)
	}
	if d := roleTrust(t, role); d == nil || !strings.Contains(d.String(), trust.Subject(ns, sa)) {
		t.Error("link did not complete after taking the lease over")
	}
}
