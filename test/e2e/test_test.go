package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
)

// jwt matches anything shaped like a JSON Web Token.
var jwt = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.`)

func assertNoJWT(t *testing.T, r result) {
	t.Helper()
	if jwt.MatchString(r.stdout) || jwt.MatchString(r.stderr) {
		t.Errorf("a JWT was printed:\n%s", r)
	}
}

// TestTestCommand is `kubectl irsa test` from the laptop: fail, link, pass, run a command with the role.
func TestTestCommand(t *testing.T) {
	ns := "tst"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)

	r := irsaCmd(t, "test", "app", "-n", ns)
	if r.code != 1 || !strings.Contains(r.stderr, "fix: kubectl irsa link app -n "+ns) {
		t.Errorf("unannotated SA: want exit 1 and the link fix, got %s", r)
	}

	mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--role-name", "tst-role", "--allow", "sts:GetCallerIdentity"))
	for _, v := range []string{"-v=0", "-v=6", "-v=9"} {
		r = irsaCmd(t, "test", "app", "-n", ns, v)
		mustSucceed(t, r)
		assertNoJWT(t, r)
	}
	if !strings.Contains(r.stdout, "assumed: arn:aws:sts::"+account+":assumed-role/tst-role/") || !strings.Contains(r.stdout, "PASS") {
		t.Errorf("pass output:\n%s", r.stdout)
	}

	r = mustSucceed(t, irsaCmd(t, "test", "app", "-n", ns, "-o", "json"))
	assertNoJWT(t, r)
	var res inspect.TestResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Kind != "TestResult" || res.Verdict != "pass" || !strings.Contains(res.AssumedRoleARN, "assumed-role/tst-role/") || res.Trust == nil || !res.Trust.Allowed || res.Expiration == nil {
		t.Errorf("result = %+v", res)
	}
	if strings.Contains(r.stdout, "SecretAccessKey") || strings.Contains(r.stdout, "sessionToken") {
		t.Errorf("credentials in the result:\n%s", r.stdout)
	}

	// -- COMMAND runs with the role's credentials; its exit status is passed on.
	script := `import boto3, sys; print(boto3.client("sts").get_caller_identity()["Arn"]); sys.exit(7)`
	r = irsaCmd(t, "test", "app", "-n", ns, "--", "python3", "-c", script)
	if r.code != 7 || !strings.Contains(r.stdout, "assumed-role/tst-role/") {
		t.Errorf("command run: %s", r)
	}
	assertNoJWT(t, r)
}

// TestTestTrustEvaluation: the emulator's STS accepts any token, so the local evaluation must catch a trust
// that names another ServiceAccount; a namespace wildcard under StringLike passes.
func TestTestTrustEvaluation(t *testing.T) {
	ns := "tst-trust"
	createNamespace(t, ns)
	hp := provider().HostPath
	mkRole := func(name, condition string) {
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider().ARN + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":` + condition + `}]}`
		if _, err := iamClient.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	mkRole("tst-other", `{"StringEquals":{"`+hp+`:sub":"system:serviceaccount:irsa-ns:irsa-sa","`+hp+`:aud":"sts.amazonaws.com"}}`)
	mkRole("tst-like", `{"StringLike":{"`+hp+`:sub":"system:serviceaccount:`+ns+`:*"},"StringEquals":{"`+hp+`:aud":"sts.amazonaws.com"}}`)
	createServiceAccount(t, ns, "wrong", map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + account + ":role/tst-other"})
	createServiceAccount(t, ns, "wild", map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + account + ":role/tst-like"})

	r := irsaCmd(t, "test", "wrong", "-n", ns)
	if r.code != 1 {
		t.Errorf("trust for another SA passed: %s", r)
	}
	if !strings.Contains(r.stdout, "expects system:serviceaccount:irsa-ns:irsa-sa, token has \"system:serviceaccount:tst-trust:wrong\"") {
		t.Errorf("the failing condition is not shown with both sides:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "sts:AssumeRoleWithWebIdentity: ok") || !strings.Contains(r.stdout, "does not evaluate trust policies") {
		t.Errorf("want the emulator's acceptance explained:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "TrustMismatch") {
		t.Errorf("error line lacks the finding: %s", r.stderr)
	}
	// The command is not run when the verdict fails.
	r = irsaCmd(t, "test", "wrong", "-n", ns, "--", "sh", "-c", "echo ran")
	if r.code != 1 || strings.Contains(r.stdout, "ran") {
		t.Errorf("command ran despite a failed verdict: %s", r)
	}

	r = mustSucceed(t, irsaCmd(t, "test", "wild", "-n", ns))
	if !strings.Contains(r.stdout, "StringLike") || !strings.Contains(r.stdout, "PASS") {
		t.Errorf("StringLike trust:\n%s", r.stdout)
	}
}

// TestTestInCluster: the sandbox has no kubelet, so the Job's pod never runs; the command must create the
// seed-like Job, give up at --timeout with a clear error, and delete the Job.
func TestTestInCluster(t *testing.T) {
	ns := "tst-job"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + account + ":role/tst-role"})
	r := irsaCmd(t, "test", "app", "-n", ns, "--in-cluster", "--timeout", "3s")
	if r.code == 0 || !strings.Contains(r.stderr, "did not finish within 3s") {
		t.Errorf("in-cluster without nodes: %s", r)
	}
	jobs, err := kube.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 0 {
		t.Errorf("test Job left behind: %v", jobs.Items[0].Name)
	}
	r = irsaCmd(t, "test", "app", "-n", ns, "--in-cluster", "--timeout", "2s", "--keep")
	jobs, _ = kube.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{})
	if len(jobs.Items) != 1 || jobs.Items[0].Spec.Template.Spec.ServiceAccountName != "app" || *jobs.Items[0].Spec.BackoffLimit != 0 {
		t.Errorf("--keep: jobs = %+v (%s)", jobs.Items, r)
	}
}

// TestTestInClusterInterrupted (issue 24 item 4): `test --in-cluster` says what it waits for while the Job runs,
// and Ctrl-C deletes the Job at once instead of leaving it to its deadline (exit 130). The sandbox has no kubelet,
// so the Job's pod never starts and the run is still waiting when the signal comes.
func TestTestInClusterInterrupted(t *testing.T) {
	ns := "tst-job-int"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + account + ":role/tst-role"})
	r := interrupted(t, 3*time.Second, "test", "app", "-n", ns, "--in-cluster", "--timeout", "5m")
	if r.code != 130 {
		t.Errorf("interrupted test --in-cluster: exit %d, want 130: %s", r.code, r)
	}
	if !strings.Contains(r.stderr, "waiting for test Job "+ns+"/") || !strings.Contains(r.stderr, "the Job is deleted") {
		t.Errorf("interrupted test --in-cluster does not say what it waited for and that the Job is deleted: %s", r)
	}
	jobs, err := kube.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 0 {
		t.Errorf("test Job left running after Ctrl-C: %s", jobs.Items[0].Name)
	}
}
