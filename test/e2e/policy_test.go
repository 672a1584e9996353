package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// inlineStatements reads the role's inline policy kubectl-irsa from IAM: each statement's actions by Sid ("" for a
// statement without one); nil when the policy does not exist.
func inlineStatements(t *testing.T, role string) map[string]string {
	t.Helper()
	out, err := iamClient.GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(setup.InlinePolicyName)})
	if awsapi.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	doc, err := url.QueryUnescape(aws.ToString(out.PolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Statement []struct {
			Sid    string
			Action any
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy %s: %v", doc, err)
	}
	got := map[string]string{}
	for _, st := range p.Statement {
		got[st.Sid] = fmt.Sprint(st.Action)
	}
	return got
}

// TestSharedRolePolicyStatements: ServiceAccounts linked to one role with --allow each own a statement of the
// inline policy (also when they link at the same time, through the real lease); a repeated link writes nothing;
// unlink removes only its own statement, and the policy goes with the last; the statement an older kubectl
// irsa wrote (no Sid) is kept.
func TestSharedRolePolicyStatements(t *testing.T) {
	ns, role := "policy-shared", "policy-shared-role"
	createNamespace(t, ns)
	for _, sa := range []string{"app", "worker", "c1", "c2", "c3"} {
		createServiceAccount(t, ns, sa, nil)
	}
	sid := func(sa string) string { return setup.PolicySid(ns, sa) }

	mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--role-name", role, "--allow", "s3:GetObject"))
	r := mustSucceed(t, irsaCmd(t, "link", "worker", "-n", ns, "--role-name", role, "--allow", "sqs:SendMessage,sqs:ReceiveMessage"))
	if !strings.Contains(r.stdout, "statement "+sid("worker")) {
		t.Errorf("plan does not name the statement:\n%s", r.stdout)
	}
	got := inlineStatements(t, role)
	if len(got) != 2 || got[sid("app")] != "[s3:GetObject]" || got[sid("worker")] != "[sqs:SendMessage sqs:ReceiveMessage]" {
		t.Fatalf("statements after two links = %v", got)
	}

	counter.Reset()
	r = mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--role-name", role, "--allow", "s3:GetObject"))
	if w := counter.Writes(); len(w) != 0 || !strings.Contains(r.stdout, "unchanged") {
		t.Errorf("repeated link wrote %v:\n%s", w, r.stdout)
	}

	// Three links at the same time, each with its own actions: every statement kept.
	var wg sync.WaitGroup
	results := make([]result, 3)
	for i, sa := range []string{"c1", "c2", "c3"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = irsaCmd(t, "link", sa, "-n", ns, "--role-name", role, "--allow", fmt.Sprintf("dynamodb:GetItem%d", i))
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("concurrent link %d: %s", i, r)
		}
	}
	got = inlineStatements(t, role)
	for i, sa := range []string{"c1", "c2", "c3"} {
		if want := fmt.Sprintf("[dynamodb:GetItem%d]", i); got[sid(sa)] != want {
			t.Errorf("statement of %s = %q, want %q (all: %v)", sa, got[sid(sa)], want, got)
		}
	}
	if len(got) != 5 {
		t.Errorf("statements after concurrent links = %v", got)
	}

	// The single statement an older kubectl irsa wrote, kept by link and unlink.
	cur, err := iamClient.GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(setup.InlinePolicyName)})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(cur.PolicyDocument))
	doc = strings.Replace(doc, `"Statement":[`, `"Statement":[{"Effect":"Allow","Action":["s3:ListBucket"],"Resource":"*"},`, 1)
	if _, err := iamClient.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(setup.InlinePolicyName), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}

	r = mustSucceed(t, irsaCmd(t, "unlink", "app", "-n", ns))
	if !strings.Contains(r.stdout, "remove statement "+sid("app")) {
		t.Errorf("unlink output:\n%s", r.stdout)
	}
	got = inlineStatements(t, role)
	if _, ok := got[sid("app")]; ok || got[sid("worker")] == "" || got[""] != "[s3:ListBucket]" || len(got) != 5 {
		t.Errorf("after unlink app: %v", got)
	}
	for _, sa := range []string{"worker", "c1", "c2"} {
		mustSucceed(t, irsaCmd(t, "unlink", sa, "-n", ns))
	}
	// c3's statement is the last of ours; the legacy one remains, so the policy stays.
	if got = inlineStatements(t, role); len(got) != 2 || got[""] != "[s3:ListBucket]" {
		t.Errorf("after unlinking all but c3: %v", got)
	}
	// Without the legacy statement, the last unlink deletes the policy (the role keeps its last subject: link
	// one more ServiceAccount without permissions first, as IAM refuses an empty trust).
	if _, err := iamClient.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(setup.InlinePolicyName),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"` + sid("c3") + `","Effect":"Allow","Action":["dynamodb:GetItem2"],"Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--role-name", role))
	r = mustSucceed(t, irsaCmd(t, "unlink", "c3", "-n", ns))
	if got := inlineStatements(t, role); got != nil || !strings.Contains(r.stdout, "delete inline policy") {
		t.Errorf("policy left after its last statement's unlink: %v\n%s", got, r.stdout)
	}
}

// TestLinkWarnsWhenPodIdentityAssociated: IRSA link on a ServiceAccount with a Pod Identity association succeeds
// and warns that the association takes precedence.
func TestLinkWarnsWhenPodIdentityAssociated(t *testing.T) {
	ns := "policy-pi"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)
	cleanupAssociations(t, ns)
	t.Cleanup(func() { deleteRoleIfExists(t, "policy-pi-role") })
	mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--pod-identity", "--role-name", "policy-pi-role"))
	r := mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--role-name", "policy-irsa-role"))
	for _, want := range []string{"has EKS Pod Identity association a-", ":role/policy-pi-role", "kubectl irsa unlink app -n " + ns + " --pod-identity"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r)
		}
	}
	if roleAnnotation(t, ns, "app") == "" {
		t.Error("not annotated")
	}
}
