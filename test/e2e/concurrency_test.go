package e2e

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// runAll runs each argument list as `kubectl irsa ARGS` at once, and returns their results in order.
func runAll(t *testing.T, runs [][]string) []result {
	t.Helper()
	out := make([]result, len(runs))
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, args := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("kubectl", append([]string{"irsa"}, args...)...)
			cmd.Env = env()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			out[i] = result{stdout: stdout.String(), stderr: stderr.String()}
			if exit, ok := err.(*exec.ExitError); ok {
				out[i].code = exit.ExitCode()
			} else {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %v: %v", runs[i], err)
		}
	}
	return out
}

func subjectsOf(t *testing.T, role string) []string {
	t.Helper()
	d := roleTrust(t, role)
	if d == nil {
		t.Fatalf("role %s is gone", role)
	}
	return d.Subjects(provider())
}

// TestConcurrentLinksOneRole: ten links of different ServiceAccounts onto one existing role at once, five rounds:
// every subject is in the trust afterwards, and every run said so.
func TestConcurrentLinksOneRole(t *testing.T) {
	ns, role := "conc-links", "conc-shared"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "base", nil)
	mustSucceed(t, irsaCmd(t, "link", "base", "-n", ns, "--role-name", role))
	// 51 subjects need an account whose trust quota was raised: the sandbox enforces IAM's quota.
	sb.SetTrustSizeQuota(sandbox.Account, 8192)
	t.Cleanup(func() { sb.SetTrustSizeQuota(sandbox.Account, 0) })
	want := []string{trust.Subject(ns, "base")}
	for round := range 5 {
		var runs [][]string
		for i := range 10 {
			sa := fmt.Sprintf("r%d-sa%d", round, i)
			createServiceAccount(t, ns, sa, nil)
			runs = append(runs, []string{"link", sa, "-n", ns, "--role-name", role, "--trust-size-limit", "8192"}) // 51 subjects: a raised quota
			want = append(want, trust.Subject(ns, sa))
		}
		for i, r := range runAll(t, runs) {
			if r.code != 0 || !strings.Contains(r.stdout, "linked ") {
				t.Errorf("round %d run %d: %s", round, i, r)
			}
		}
		got := subjectsOf(t, role)
		for _, sub := range want {
			if !slices.Contains(got, sub) {
				t.Errorf("round %d: subject %s lost; trust has %d subjects", round, sub, len(got))
			}
		}
	}
}

// TestConcurrentLinkUnlink: links and unlinks at once; the final trust is exactly the subjects whose link printed
// success plus those whose unlink did not.
func TestConcurrentLinkUnlink(t *testing.T) {
	ns, role := "conc-mixed", "conc-mixed"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "base", nil)
	mustSucceed(t, irsaCmd(t, "link", "base", "-n", ns, "--role-name", role))
	var runs [][]string
	for i := range 5 {
		u := fmt.Sprintf("u%d", i)
		createServiceAccount(t, ns, u, nil)
		mustSucceed(t, irsaCmd(t, "link", u, "-n", ns, "--role-name", role))
		runs = append(runs, []string{"unlink", u, "-n", ns})
		l := fmt.Sprintf("l%d", i)
		createServiceAccount(t, ns, l, nil)
		runs = append(runs, []string{"link", l, "-n", ns, "--role-name", role})
	}
	want := []string{trust.Subject(ns, "base")}
	for i, r := range runAll(t, runs) {
		sa := runs[i][1]
		switch {
		case runs[i][0] == "link" && r.code == 0 && strings.Contains(r.stdout, "linked "):
			want = append(want, trust.Subject(ns, sa))
		case runs[i][0] == "unlink" && r.code == 0 && strings.Contains(r.stdout, "unlinked "):
		default:
			t.Errorf("%v: %s", runs[i], r)
			if runs[i][0] == "unlink" {
				want = append(want, trust.Subject(ns, sa))
			}
		}
	}
	slices.Sort(want)
	if got := subjectsOf(t, role); !slices.Equal(got, want) {
		t.Errorf("trust subjects\n got %v\nwant %v", got, want)
	}
}

// TestFailedRunKeepsConcurrentSubjects: a run whose PutRolePolicy fails rolls back its own subject only, while
// other runs join the same role at the same time.
func TestFailedRunKeepsConcurrentSubjects(t *testing.T) {
	ns, role := "conc-fail", "conc-fail"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "base", nil)
	mustSucceed(t, irsaCmd(t, "link", "base", "-n", ns, "--role-name", role))
	remove := sb.AWS.InjectFault(sandbox.Fault{Operation: "iam:PutRolePolicy", RoleName: role})
	defer remove()
	var runs [][]string
	for i := range 6 {
		sa := fmt.Sprintf("sa%d", i)
		createServiceAccount(t, ns, sa, nil)
		args := []string{"link", sa, "-n", ns, "--role-name", role}
		if i%3 == 0 {
			args = append(args, "--allow", "s3:GetObject") // fails at PutRolePolicy and rolls back
		}
		runs = append(runs, args)
	}
	want := []string{trust.Subject(ns, "base")}
	for i, r := range runAll(t, runs) {
		failing := slices.Contains(runs[i], "--allow")
		switch {
		case failing && (r.code != 1 || !strings.Contains(r.stderr, "rolled back")):
			t.Errorf("%v should fail and roll back: %s", runs[i], r)
		case !failing && r.code != 0:
			t.Errorf("%v: %s", runs[i], r)
		case !failing:
			want = append(want, trust.Subject(ns, runs[i][1]))
		}
	}
	slices.Sort(want)
	if got := subjectsOf(t, role); !slices.Equal(got, want) {
		t.Errorf("trust subjects\n got %v\nwant %v", got, want)
	}
}
