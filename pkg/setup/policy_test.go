package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

func TestPolicySid(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9]+$`)
	long := strings.Repeat("a", 63)
	for _, tc := range []struct {
		ns, sa, prefix string
	}{
		{"irsa-sample-ns", "irsa-test", "KubectlIrsaIrsaSampleNsIrsaTest"},
		{"team.b", "worker", "KubectlIrsaTeamBWorker"},
		{long, long, "KubectlIrsa" + "A" + strings.Repeat("a", 47)},
	} {
		sid := PolicySid(tc.ns, tc.sa)
		if !valid.MatchString(sid) || !strings.HasPrefix(sid, tc.prefix) || len(sid) != len(tc.prefix)+8 {
			t.Errorf("PolicySid(%q, %q) = %q, want %s + 8 hex digits", tc.ns, tc.sa, sid, tc.prefix)
		}
		if PolicySid(tc.ns, tc.sa) != sid {
			t.Errorf("PolicySid(%q, %q) is not deterministic", tc.ns, tc.sa)
		}
	}
	// Names that read alike still get distinct Sids.
	for _, pair := range [][2][2]string{
		{{"a-b", "c"}, {"ab", "c"}},
		{{"a", "b-c"}, {"a-b", "c"}},
		{{long, long + "x"}, {long, long + "y"}},
	} {
		if a, b := PolicySid(pair[0][0], pair[0][1]), PolicySid(pair[1][0], pair[1][1]); a == b {
			t.Errorf("%v and %v share Sid %s", pair[0], pair[1], a)
		}
	}
}

func TestOwnedSid(t *testing.T) {
	owner := PolicySid("ns", "app")
	other := PolicySid("ns", "app2")
	for _, tc := range []struct {
		sid  string
		want bool
	}{
		{owner, true},
		{owner + "Part2", true},
		{owner + "Part13", true},
		{owner + "Part", false},
		{owner + "Part02", false},
		{owner + "Part+2", false},
		{owner + "Partx", false},
		{other, false},
		{"", false},
		{RoleCreateSid, false},
	} {
		if got := ownedSid(tc.sid, owner); got != tc.want {
			t.Errorf("ownedSid(%q) = %v, want %v", tc.sid, got, tc.want)
		}
	}
	// Names crafted so that another owner's Sid reads as owner+"Part"+digits (found by review): the
	// ServiceAccount's own Sid ends in its 8-digit hash, which must not be taken for a part number.
	for _, c := range []struct{ owner, ns, name string }{
		{PolicySid("a", "b"), "a", "bc1---------4cddc0-part"},
		{RoleCreateSid, "role", "part-13"},
	} {
		if other := PolicySid(c.ns, c.name); ownedSid(other, c.owner) {
			t.Errorf("Sid %s of %s/%s is taken as owned by %s", other, c.ns, c.name, c.owner)
		}
	}
	for i := range maxParts {
		if sid := partSid(owner, i); !ownedSid(sid, owner) {
			t.Fatalf("part %d's Sid %s is not owned", i, sid)
		}
	}
}

func raws(ss ...string) []json.RawMessage {
	var out []json.RawMessage
	for _, s := range ss {
		out = append(out, json.RawMessage(s))
	}
	return out
}

func TestSetOwned(t *testing.T) {
	const (
		legacy = `{"Action":["s3:ListBucket"],"Effect":"Allow","Resource":"*"}`
		a1     = `{"Action":["s3:GetObject"],"Effect":"Allow","Resource":"*","Sid":"KubectlIrsaA"}`
		a2     = `{"Action":["s3:PutObject"],"Effect":"Allow","Resource":"*","Sid":"KubectlIrsaA"}`
		a2p2   = `{"Action":["sqs:*"],"Effect":"Allow","Resource":"*","Sid":"KubectlIrsaAPart2"}`
		b      = `{"Action":["eks:ListClusters"],"Effect":"Allow","Resource":"*","Sid":"KubectlIrsaB"}`
	)
	doc := func(sts ...string) string {
		return `{"Statement":[` + strings.Join(sts, ",") + `],"Version":"2012-10-17"}`
	}
	for _, tc := range []struct {
		name, cur string
		want      []json.RawMessage
		out       string
	}{
		{"new policy", "", raws(a1), doc(a1)},
		{"added after the others", doc(legacy, b), raws(a1), doc(legacy, b, a1)},
		{"replaced in place", doc(legacy, a1, b), raws(a2), doc(legacy, a2, b)},
		{"several statements, then fewer", doc(a1, a2p2, b), raws(a2), doc(a2, b)},
		{"removed", doc(legacy, a1, b), nil, doc(legacy, b)},
		{"last removed: no policy", doc(a1, a2p2), nil, ""},
		{"nothing of ours to remove", doc(legacy), nil, doc(legacy)},
		{"Statement as one object", `{"Version":"2012-10-17","Statement":` + legacy + `}`, raws(a1), doc(legacy, a1)},
		{"Id and Version kept", `{"Id":"x","Version":"2008-10-17","Statement":[` + b + `]}`, raws(a1), `{"Id":"x","Statement":[` + b + `,` + a1 + `],"Version":"2008-10-17"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := tc.cur
			if cur != "" {
				var err error
				if cur, err = NormalizePolicy(cur); err != nil {
					t.Fatal(err)
				}
			}
			got, err := setOwned(cur, "KubectlIrsaA", tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.out {
				t.Errorf("got  %s\nwant %s", got, tc.out)
			}
		})
	}
}

func TestPolicySizeIgnoresWhitespace(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want int
	}{
		{`{"a":"b"}`, 9},
		{"{ \"a\" :\n\t\"b\" }\n", 9},
		{`{"a":"b c"}`, 11}, // whitespace inside strings counts
		{`{"a":"é"}`, 9},    // characters, not bytes
	} {
		if got, err := PolicySize(tc.doc); err != nil || got != tc.want {
			t.Errorf("PolicySize(%q) = %d, %v; want %d", tc.doc, got, err, tc.want)
		}
	}
	if _, err := PolicySize("{"); err == nil {
		t.Error("PolicySize of invalid JSON: want an error")
	}
}

// kubeWithSAs has namespace irsa-sample-ns with the ServiceAccounts, allows everything, and fails the
// annotation patch of the ServiceAccounts in failing.
func kubeWithSAs(names []string, failing ...string) *fake.Clientset {
	objs := []runtime.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "irsa-sample-ns"}}}
	for _, n := range names {
		objs = append(objs, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: "irsa-sample-ns"}})
	}
	kube := fake.NewClientset(objs...)
	kube.PrependReactor("create", "selfsubjectaccessreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authorizationv1.SelfSubjectAccessReview{Status: authorizationv1.SubjectAccessReviewStatus{Allowed: true}}, nil
	})
	kube.PrependReactor("patch", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		for _, f := range failing {
			if a.(k8stesting.PatchAction).GetName() == f {
				return true, nil, errors.New("admission webhook denied the request")
			}
		}
		return false, nil, nil
	})
	return kube
}

// policyOf is the role's inline policy kubectl-irsa, normalised ("" when none).
func policyOf(t *testing.T, cloud *fakeaws.AWS, role string) string {
	t.Helper()
	raw := cloud.IAM.Inline(role, InlinePolicyName)
	if raw == "" {
		return ""
	}
	doc, err := NormalizePolicy(raw)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// statementOf returns the actions of the statement of ServiceAccount sa in the role's inline policy ("" none).
func statementOf(t *testing.T, cloud *fakeaws.AWS, role, sa string) string {
	t.Helper()
	owned, err := ownedIn(policyOf(t, cloud, role), PolicySid("irsa-sample-ns", sa))
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, st := range owned {
		var s struct{ Action []string }
		if err := json.Unmarshal(st, &s); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, strings.Join(s.Action, "+"))
	}
	return strings.Join(parts, ";")
}

func linkSA(sa string, actions ...string) LinkRequest {
	return LinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: sa, RoleName: "shared", Permissions: ActionsPolicy(actions)}
}

func unlinkSA(t *testing.T, s *Setup, sa string) error {
	t.Helper()
	plan, err := s.PlanUnlink(context.Background(), UnlinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: sa})
	if err != nil {
		return err
	}
	_, err = plan.Apply(context.Background())
	return err
}

// TestSharedRolePolicyPerServiceAccount: each link owns its statement of the inline policy; a second link keeps
// the first's, a repeated link writes nothing, unlink removes only its own and the policy goes with the last.
func TestSharedRolePolicyPerServiceAccount(t *testing.T) {
	cloud := fakeaws.New()
	s := newSetup(kubeWithSAs([]string{"app", "worker", "third"}), cloud)
	if _, err := link(t, s, linkSA("app", "s3:GetObject")); err != nil {
		t.Fatal(err)
	}
	if _, err := link(t, s, linkSA("worker", "sqs:SendMessage", "sqs:ReceiveMessage")); err != nil {
		t.Fatal(err)
	}
	if a, w := statementOf(t, cloud, "shared", "app"), statementOf(t, cloud, "shared", "worker"); a != "s3:GetObject" || w != "sqs:SendMessage+sqs:ReceiveMessage" {
		t.Fatalf("statements app=%q worker=%q:\n%s", a, w, policyOf(t, cloud, "shared"))
	}

	// The same actions again: nothing written, the plan says unchanged.
	before := len(cloud.Writes())
	res, err := link(t, s, linkSA("app", "s3:GetObject"))
	if err != nil || !res.Unchanged || len(cloud.Writes()) != before {
		t.Errorf("repeated link: unchanged=%v writes=%v err=%v", res.Unchanged, cloud.Writes()[before:], err)
	}
	// Other actions replace only app's statement.
	if _, err := link(t, s, linkSA("app", "s3:PutObject")); err != nil {
		t.Fatal(err)
	}
	if a, w := statementOf(t, cloud, "shared", "app"), statementOf(t, cloud, "shared", "worker"); a != "s3:PutObject" || w != "sqs:SendMessage+sqs:ReceiveMessage" {
		t.Errorf("after relink app=%q worker=%q", a, w)
	}

	if err := unlinkSA(t, s, "app"); err != nil {
		t.Fatal(err)
	}
	if a, w := statementOf(t, cloud, "shared", "app"), statementOf(t, cloud, "shared", "worker"); a != "" || w != "sqs:SendMessage+sqs:ReceiveMessage" {
		t.Errorf("after unlink app=%q worker=%q", a, w)
	}
	// The last statement's unlink deletes the policy (IAM refuses "Statement":[]); the role's last subject needs
	// --delete-role, so worker's subject stays: link a third ServiceAccount without permissions first.
	if _, err := link(t, s, LinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "third", RoleName: "shared"}); err != nil {
		t.Fatal(err)
	}
	if err := unlinkSA(t, s, "worker"); err != nil {
		t.Fatal(err)
	}
	if got := policyOf(t, cloud, "shared"); got != "" {
		t.Errorf("policy left with no statement of ours: %s", got)
	}
	if !strings.Contains(strings.Join(cloud.Writes(), ","), "DeleteRolePolicy") {
		t.Errorf("no DeleteRolePolicy: %v", cloud.Writes())
	}
}

// TestLegacyStatementKept: the single statement an older kubectl irsa wrote (no Sid) and hand-written ones are
// kept by link and unlink, and named in a hint.
func TestLegacyStatementKept(t *testing.T) {
	cloud := fakeaws.New()
	cloud.IAM.AddProvider(testHostPath, iamref.DefaultAudience)
	cloud.IAM.AddRole("/", "shared", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	const handWritten = `{"Action":"kms:Decrypt","Effect":"Allow","Resource":"*","Sid":"Mine"}`
	cloud.IAM.PutInline("shared", InlinePolicyName, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucket"],"Resource":"*"},`+handWritten+`]}`)
	s := newSetup(kubeWithSAs([]string{"app"}), cloud)
	res, err := link(t, s, linkSA("app", "s3:GetObject"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hints) == 0 || !strings.Contains(res.Hints[0], "2 statement(s) without a kubectl irsa Sid") {
		t.Errorf("hints = %q", res.Hints)
	}
	want := `{"Statement":[{"Action":["s3:ListBucket"],"Effect":"Allow","Resource":"*"},` + handWritten + `,{"Action":["s3:GetObject"],"Effect":"Allow","Resource":"*","Sid":"` + PolicySid("irsa-sample-ns", "app") + `"}],"Version":"2012-10-17"}`
	if got := policyOf(t, cloud, "shared"); got != want {
		t.Errorf("policy\n got %s\nwant %s", got, want)
	}
	if err := unlinkSA(t, s, "app"); err != nil {
		t.Fatal(err)
	}
	want = `{"Statement":[{"Action":["s3:ListBucket"],"Effect":"Allow","Resource":"*"},` + handWritten + `],"Version":"2012-10-17"}`
	if got := policyOf(t, cloud, "shared"); got != want {
		t.Errorf("after unlink\n got %s\nwant %s", got, want)
	}
}

// TestPolicyRollbackRestoresOnlyThisRun: a failed link puts back exactly the statement its ServiceAccount had,
// and keeps the statement another ServiceAccount wrote.
func TestPolicyRollbackRestoresOnlyThisRun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		had     []string // app's actions before the failing run (nil: not linked)
		wantApp string
	}{
		{"new statement removed", nil, ""},
		{"previous statement restored", []string{"s3:GetObject"}, "s3:GetObject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cloud := fakeaws.New()
			ok := newSetup(kubeWithSAs([]string{"app", "worker"}), cloud)
			if _, err := link(t, ok, linkSA("worker", "sqs:SendMessage")); err != nil {
				t.Fatal(err)
			}
			if tc.had != nil {
				if _, err := link(t, ok, linkSA("app", tc.had...)); err != nil {
					t.Fatal(err)
				}
			}
			failing := newSetup(kubeWithSAs([]string{"app", "worker"}, "app"), cloud)
			req := linkSA("app", "dynamodb:GetItem")
			if tc.had != nil {
				req.Overwrite = true
			}
			_, err := link(t, failing, req)
			if err == nil || !strings.Contains(err.Error(), "rolled back:") || !strings.Contains(err.Error(), "statement "+PolicySid("irsa-sample-ns", "app")) {
				t.Fatalf("err = %v", err)
			}
			if a, w := statementOf(t, cloud, "shared", "app"), statementOf(t, cloud, "shared", "worker"); a != tc.wantApp || w != "sqs:SendMessage" {
				t.Errorf("after rollback app=%q worker=%q:\n%s", a, w, policyOf(t, cloud, "shared"))
			}
		})
	}
}

// TestPolicyTooLargeRefusedBeforeAnyWrite: a merge over IAM's 10,240 characters is refused at the plan, with
// what to do, and nothing is written.
func TestPolicyTooLargeRefusedBeforeAnyWrite(t *testing.T) {
	cloud := fakeaws.New()
	cloud.IAM.AddProvider(testHostPath, iamref.DefaultAudience)
	cloud.IAM.AddRole("/", "shared", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	big := func(n int) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"Big","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", n) + `/*"}]}`
	}
	n, _ := PolicySize(big(0))
	cloud.IAM.PutInline("shared", InlinePolicyName, big(MaxInlinePolicySize-n-120)) // 120 characters left
	s := newSetup(kubeWithSAs([]string{"app"}), cloud)
	// A small statement still fits.
	if _, err := s.PlanLink(context.Background(), linkSA("app", "s3:A")); err != nil {
		t.Fatalf("a statement that fits: %v", err)
	}
	_, err := s.PlanLink(context.Background(), linkSA("app", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetObjectTagging"))
	if !errors.Is(err, ErrPolicyTooLarge) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "10240") || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("err = %v", err)
	}
	if w := cloud.Writes(); len(w) != 0 {
		t.Errorf("writes = %v", w)
	}
}

// TestPolicyTooLargeUnderLockRefusedBeforeTrust: when the policy grew between the plan and the write (another
// run), the merge is refused under the lock before the trust is touched.
func TestPolicyTooLargeUnderLockRefusedBeforeTrust(t *testing.T) {
	cloud := fakeaws.New()
	cloud.IAM.AddProvider(testHostPath, iamref.DefaultAudience)
	cloud.IAM.AddRole("/", "shared", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	s := newSetup(kubeWithSAs([]string{"app"}), cloud)
	plan, err := s.PlanLink(context.Background(), linkSA("app", "s3:GetObject"))
	if err != nil {
		t.Fatal(err)
	}
	cloud.IAM.PutInline("shared", InlinePolicyName, `{"Version":"2012-10-17","Statement":[{"Sid":"Big","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+strings.Repeat("b", MaxInlinePolicySize-100)+`/*"}]}`)
	trustBefore := cloud.IAM.Trust("shared")
	if _, err := plan.Apply(context.Background()); !errors.Is(err, ErrPolicyTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if w := cloud.Writes(); len(w) != 0 || cloud.IAM.Trust("shared") != trustBefore {
		t.Errorf("writes = %v", w)
	}
}

// TestPolicyFileStatementsOwned: a policy document with several statements gives each its Sid (Part2, ...), and
// a later link with fewer removes the extra ones.
func TestPolicyFileStatementsOwned(t *testing.T) {
	cloud := fakeaws.New()
	s := newSetup(kubeWithSAs([]string{"app"}), cloud)
	perms, err := DocumentPolicy([]byte(`{"Version":"2012-10-17","Statement":[{"Sid":"Theirs","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	req := linkSA("app")
	req.Permissions = perms
	if _, err := link(t, s, req); err != nil {
		t.Fatal(err)
	}
	sid := PolicySid("irsa-sample-ns", "app")
	doc := policyOf(t, cloud, "shared")
	if !strings.Contains(doc, `"Sid":"`+sid+`"`) || !strings.Contains(doc, `"Sid":"`+sid+`Part2"`) || strings.Contains(doc, "Theirs") {
		t.Errorf("policy = %s", doc)
	}
	if _, err := link(t, s, linkSA("app", "s3:GetObject")); err != nil {
		t.Fatal(err)
	}
	if got := statementOf(t, cloud, "shared", "app"); got != "s3:GetObject" {
		t.Errorf("after relink with one statement: %q in %s", got, policyOf(t, cloud, "shared"))
	}
}

// TestUnlinkPolicyReadDenied: unlink without iam:GetRolePolicy still removes the subject and the annotation,
// leaves the inline policy, and says so.
func TestUnlinkPolicyReadDenied(t *testing.T) {
	cloud := fakeaws.New()
	s := newSetup(kubeWithSAs([]string{"app", "worker"}), cloud)
	for _, sa := range []string{"app", "worker"} {
		if _, err := link(t, s, linkSA(sa, "s3:GetObject")); err != nil {
			t.Fatal(err)
		}
	}
	cloud.Fail("GetRolePolicy", fakeaws.AccessDenied("GetRolePolicy"))
	plan, err := s.PlanUnlink(context.Background(), UnlinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "app"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := plan.Apply(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(res.Hints, "\n"), "could not read inline policy kubectl-irsa of role shared (AccessDenied") {
		t.Errorf("hints = %q", res.Hints)
	}
	if statementOf(t, cloud, "shared", "app") == "" || strings.Contains(cloud.IAM.Trust("shared"), "irsa-sample-ns:app\"") {
		t.Errorf("policy %s, trust %s", policyOf(t, cloud, "shared"), cloud.IAM.Trust("shared"))
	}
}

// countCalls counts the calls of operation op since call number from.
func countCalls(cloud *fakeaws.AWS, from int, op string) int {
	n := 0
	for _, c := range cloud.Calls()[from:] {
		if c == op {
			n++
		}
	}
	return n
}

// sharedRoleWithOthers is an account with role shared holding the given other inline policies.
func sharedRoleWithOthers(others map[string]string) *fakeaws.AWS {
	cloud := fakeaws.New()
	cloud.IAM.AddProvider(testHostPath, iamref.DefaultAudience)
	cloud.IAM.AddRole("/", "shared", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	for name, doc := range others {
		cloud.IAM.PutInline("shared", name, doc)
	}
	return cloud
}

// TestOtherInlinePoliciesCountTowardSize: IAM's limit is on all of a role's inline policies together, so a
// link to a role whose other inline policies (read on every page) leave too little room is refused before any
// write, naming the sizes; whitespace outside strings is not counted.
func TestOtherInlinePoliciesCountTowardSize(t *testing.T) {
	bigDoc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::" + strings.Repeat("b", MaxInlinePolicySize-200) + "/*\"}]\n}"
	small := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`
	cloud := sharedRoleWithOthers(map[string]string{"a-small": small, "b-small": small, "z-big": bigDoc})
	cloud.PageSize = 1 // z-big is on the third page
	bigSize, _ := PolicySize(bigDoc)
	smallSize, _ := PolicySize(small)
	s := newSetup(kubeWithSAs([]string{"app"}), cloud)
	trustBefore := cloud.IAM.Trust("shared")
	_, err := link(t, s, linkSA("app", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"))
	if !errors.Is(err, ErrPolicyTooLarge) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"a-small, b-small, z-big", fmt.Sprintf("have %d", bigSize+2*smallSize), "10240", "nothing was written"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err %q does not say %q", err, want)
		}
	}
	if w := cloud.Writes(); len(w) != 0 || cloud.IAM.Trust("shared") != trustBefore {
		t.Errorf("writes = %v", w)
	}
	if n := countCalls(cloud, 0, "ListRolePolicies"); n != 3 {
		t.Errorf("ListRolePolicies called %d times, want 3 (one a page)", n)
	}
}

// TestOtherInlinePoliciesFit: other inline policies that leave room do not stop the link; a link that creates
// the role and a repeated link do not list the inline policies.
func TestOtherInlinePoliciesFit(t *testing.T) {
	cloud := sharedRoleWithOthers(map[string]string{"mine": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`})
	s := newSetup(kubeWithSAs([]string{"app"}), cloud)
	res, err := link(t, s, linkSA("app", "s3:GetObject"))
	if err != nil || statementOf(t, cloud, "shared", "app") != "s3:GetObject" || len(res.Hints) != 0 {
		t.Fatalf("link: %v, hints %q, policy %s", err, res.Hints, policyOf(t, cloud, "shared"))
	}
	if countCalls(cloud, 0, "ListRolePolicies") != 1 {
		t.Errorf("calls = %v", cloud.Calls())
	}
	from := len(cloud.Calls())
	if _, err := link(t, s, linkSA("app", "s3:GetObject")); err != nil {
		t.Fatal(err)
	}
	if n := countCalls(cloud, from, "ListRolePolicies") + countCalls(cloud, from, "GetRolePolicy"); n != 1 {
		t.Errorf("repeated link: %v", cloud.Calls()[from:])
	}

	fresh := fakeaws.New()
	fresh.IAM.AddProvider(testHostPath, iamref.DefaultAudience)
	if _, err := link(t, newSetup(kubeWithSAs([]string{"app"}), fresh), linkSA("app", "s3:GetObject")); err != nil {
		t.Fatal(err)
	}
	if n := countCalls(fresh, 0, "ListRolePolicies"); n != 0 {
		t.Errorf("link creating the role listed its inline policies: %v", fresh.Calls())
	}
}

// TestOtherInlinePoliciesDenied: without iam:ListRolePolicies the link still writes, and says the total could
// not be checked.
func TestOtherInlinePoliciesDenied(t *testing.T) {
	cloud := sharedRoleWithOthers(nil)
	cloud.Fail("ListRolePolicies", fakeaws.AccessDenied("ListRolePolicies"))
	s := newSetup(kubeWithSAs([]string{"app"}), cloud)
	res, err := link(t, s, linkSA("app", "s3:GetObject"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(res.Hints, "\n"), "could not check the size of the other inline policies of role shared (AccessDenied") {
		t.Errorf("hints = %q", res.Hints)
	}
	if statementOf(t, cloud, "shared", "app") != "s3:GetObject" {
		t.Errorf("policy = %s", policyOf(t, cloud, "shared"))
	}
}

// policyDetailOf is the plan's detail for the inline policy step ("" when none).
func policyDetailOf(res *api.Result) string {
	for _, a := range res.Actions {
		if strings.HasSuffix(a.Resource, "/policy/"+InlinePolicyName) {
			return a.Detail
		}
	}
	return ""
}

// TestPolicyPlanText: the plan of a --policy-file names allowed and denied actions apart and every Sid written;
// a re-link says what it replaces and which Sids it removes; unlink names every Sid it removes.
func TestPolicyPlanText(t *testing.T) {
	cloud := sharedRoleWithOthers(nil) // a trust that keeps a statement after unlink
	s := newSetup(kubeWithSAs([]string{"app"}), cloud)
	sid := PolicySid("irsa-sample-ns", "app")
	withFile := func(doc string) LinkRequest {
		perms, err := DocumentPolicy([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		req := linkSA("app")
		req.Permissions = perms
		return req
	}
	three := withFile(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"},{"Effect":"Allow","Action":"sns:Publish","Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`)
	plan, err := s.PlanLink(context.Background(), three)
	if err != nil {
		t.Fatal(err)
	}
	want := "inline policy allowing s3:PutObject, sns:Publish; denying iam:* (statements " + sid + ", " + sid + "Part2, " + sid + "Part3)"
	if got := policyDetailOf(plan.Result()); got != want {
		t.Errorf("first link\n got %q\nwant %q", got, want)
	}
	if _, err := plan.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if plan, err = s.PlanLink(context.Background(), three); err != nil {
		t.Fatal(err)
	}
	if got, want := policyDetailOf(plan.Result()), "inline policy statements "+sid+", "+sid+"Part2, "+sid+"Part3 already as wanted"; got != want {
		t.Errorf("repeated link\n got %q\nwant %q", got, want)
	}

	if plan, err = s.PlanLink(context.Background(), linkSA("app", "s3:GetObject")); err != nil {
		t.Fatal(err)
	}
	want = "inline policy allowing s3:GetObject (statement " + sid + "), replacing s3:PutObject, sns:Publish, denied iam:*; removing statements " + sid + "Part2, " + sid + "Part3"
	if got := policyDetailOf(plan.Result()); got != want {
		t.Errorf("re-link with fewer statements\n got %q\nwant %q", got, want)
	}
	if _, err := plan.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if plan, err = s.PlanLink(context.Background(), linkSA("app", "s3:PutObject")); err != nil {
		t.Fatal(err)
	}
	if got, want := policyDetailOf(plan.Result()), "inline policy allowing s3:PutObject (statement "+sid+"), replacing s3:GetObject"; got != want {
		t.Errorf("re-link with other actions\n got %q\nwant %q", got, want)
	}

	if _, err := link(t, s, three); err != nil {
		t.Fatal(err)
	}
	// Another ServiceAccount's statement keeps the policy: unlink removes app's three.
	cloud.IAM.PutInline("shared", InlinePolicyName, strings.Replace(cloud.IAM.Inline("shared", InlinePolicyName), `"Statement":[`, `"Statement":[{"Sid":"Mine","Effect":"Allow","Action":"kms:Decrypt","Resource":"*"},`, 1))
	unlink, err := s.PlanUnlink(context.Background(), UnlinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "app"})
	if err != nil {
		t.Fatal(err)
	}
	want = "inline policy: remove statements " + sid + ", " + sid + "Part2, " + sid + "Part3 allowing s3:PutObject, sns:Publish; denying iam:*"
	if got := policyDetailOf(unlink.Result()); got != want {
		t.Errorf("unlink\n got %q\nwant %q", got, want)
	}
}

// TestDocumentPolicyDenied: a Deny statement's actions are summarised as denied, not allowed.
func TestDocumentPolicyDenied(t *testing.T) {
	p, err := DocumentPolicy([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:*","sts:*"],"Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Summary(); got != "denying iam:*, sts:*" {
		t.Errorf("Summary() = %q", got)
	}
}

// TestSummaryNotAction (found by review): a NotAction statement of a policy file is described in the plan, not
// left out.
func TestSummaryNotAction(t *testing.T) {
	p, err := DocumentPolicy([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Effect":"Deny","NotAction":["s3:*","kms:Decrypt"],"Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Summary(), "allowing s3:GetObject; denying all but s3:*, kms:Decrypt"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}
