package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// interrupted runs `kubectl irsa ARGS` and sends it SIGINT after delay (kubectl execs the plugin, so the signal
// reaches it).
func interrupted(t *testing.T, delay time.Duration, args ...string) result {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"irsa"}, args...)...)
	cmd.Env = env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// kubectl execs the plugin in place, which execs its full CLI in place: count the delay from then, as a
	// user's Ctrl-C reaches the plugin.
	go func() {
		exe := fmt.Sprintf("/proc/%d/exe", cmd.Process.Pid)
		for start := time.Now(); time.Since(start) < 20*time.Second; time.Sleep(5 * time.Millisecond) {
			if target, err := os.Readlink(exe); err != nil || strings.HasSuffix(target, "irsa-core") {
				break
			}
		}
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGINT)
	}()
	err := cmd.Wait()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exit, ok := err.(*exec.ExitError); ok {
		r.code = exit.ExitCode()
	}
	return r
}

// interruptCase creates ServiceAccount sa<i> in ns and names its role <rolePrefix>-<i>, deleted at cleanup.
func interruptCase(t *testing.T, ns, rolePrefix string, i int) (sa, role string) {
	t.Helper()
	sa, role = fmt.Sprintf("sa%d", i), fmt.Sprintf("%s-%d", rolePrefix, i)
	createServiceAccount(t, ns, sa, nil)
	t.Cleanup(func() { deleteRoleIfExists(t, role) })
	return sa, role
}

// TestInterruptedLink: `link --allow` interrupted at several moments leaves either the finished link (exit 0) or,
// with exit 130, the state before the run (no annotation, the subject in no trust) unless it names what is left;
// a re-run completes it at once (the lease was released, no wait).
func TestInterruptedLink(t *testing.T) {
	ns := "int-link"
	createNamespace(t, ns)
	for i := range 6 {
		sa, role := interruptCase(t, ns, "int-link", i)
		r := interrupted(t, time.Duration(250+60*i)*time.Millisecond, "link", sa, "-n", ns, "--role-name", role, "--allow", "s3:GetObject")
		t.Logf("link run %d: exit %d; %s", i, r.code, strings.TrimSpace(r.stderr))
		switch r.code {
		case 0:
		case 130:
			left := strings.Contains(r.stderr, "ROLLBACK FAILED") || strings.Contains(r.stderr, "not reversible")
			if !left && roleAnnotation(t, ns, sa) != "" {
				t.Errorf("run %d: interrupted, nothing said to be left, yet the annotation stays: %s", i, r)
			}
			if d := roleTrust(t, role); !left && d != nil && strings.Contains(d.String(), trust.Subject(ns, sa)) {
				t.Errorf("run %d: interrupted, nothing said to be left, yet role %s still trusts the subject: %s\n%s", i, role, d, r)
			}
			if !strings.Contains(r.stderr, "interrupted") {
				t.Errorf("run %d: exit 130 without saying it was interrupted: %s", i, r)
			}
		default:
			t.Errorf("run %d: exit %d, want 0 or 130: %s", i, r.code, r)
		}
		start := time.Now()
		mustSucceed(t, irsaCmd(t, "link", sa, "-n", ns, "--role-name", role, "--allow", "s3:GetObject"))
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("run %d: the re-run took %s: the lease was not released", i, d)
		}
		if _, ok := inlineStatements(t, role)[setup.PolicySid(ns, sa)]; !ok || roleAnnotation(t, ns, sa) == "" {
			t.Errorf("run %d: the re-run did not complete the link", i)
		}
	}
}

// TestInterruptedUnlinkDeleteRole: `unlink --delete-role` interrupted never leaves a role that no command can
// find: either the annotation stays (a re-run finishes), or the role is gone with it.
func TestInterruptedUnlinkDeleteRole(t *testing.T) {
	ns := "int-unlink"
	createNamespace(t, ns)
	for i := range 5 {
		sa, role := interruptCase(t, ns, "int-unlink", i)
		mustSucceed(t, irsaCmd(t, "link", sa, "-n", ns, "--role-name", role, "--allow", "s3:GetObject"))
		r := interrupted(t, time.Duration(220+40*i)*time.Millisecond, "unlink", sa, "-n", ns, "--delete-role")
		t.Logf("unlink run %d: exit %d; %s", i, r.code, strings.TrimSpace(r.stderr))
		if r.code != 0 && r.code != 130 {
			t.Errorf("run %d: exit %d, want 0 or 130: %s", i, r.code, r)
		}
		annotated, exists := roleAnnotation(t, ns, sa) != "", roleTrust(t, role) != nil
		if !annotated && exists {
			t.Errorf("run %d: the annotation is gone but role %s survives (no command finds it any more): %s", i, role, r)
		}
		if annotated {
			mustSucceed(t, irsaCmd(t, "unlink", sa, "-n", ns, "--delete-role"))
			if roleTrust(t, role) != nil || roleAnnotation(t, ns, sa) != "" {
				t.Errorf("run %d: the re-run did not finish the unlink", i)
			}
		}
	}
}
