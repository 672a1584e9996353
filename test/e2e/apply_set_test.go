package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// writeSet writes an identity file into a temporary directory and returns its path.
func writeSet(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "identities.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// diffSet runs diff -f -o json and returns its exit code and result (nil when it printed none).
func diffSet(t *testing.T, file string, extra ...string) (int, *api.SetResult) {
	t.Helper()
	r := irsaCmd(t, append([]string{"diff", "-f", file, "-o", "json"}, extra...)...)
	if r.code == 2 {
		t.Fatalf("diff could not check: %s", r)
	}
	var res api.SetResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("diff output: %v\n%s", err, r)
	}
	return r.code, &res
}

func driftOf(res *api.SetResult) []string {
	var out []string
	for _, d := range res.Drift {
		out = append(out, d.Class)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// rolePolicy reads a role's inline policy kubectl-irsa (decoded, "" when absent).
func rolePolicy(t *testing.T, role string) string {
	t.Helper()
	out, err := iamClient.GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(setup.InlinePolicyName)})
	if err != nil {
		return ""
	}
	doc, err := url.QueryUnescape(aws.ToString(out.PolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func putRolePolicy(t *testing.T, role, doc string) {
	t.Helper()
	if _, err := iamClient.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(setup.InlinePolicyName), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
}

// editStatement replaces the statement with sid in a policy document (nil removes it).
func editStatement(t *testing.T, doc, sid string, with map[string]any) string {
	t.Helper()
	var pol struct {
		Version   string
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(doc), &pol); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, st := range pol.Statement {
		if st["Sid"] == sid {
			if with != nil {
				out = append(out, with)
			}
			continue
		}
		out = append(out, st)
	}
	pol.Statement = out
	b, _ := json.Marshal(pol)
	return string(b)
}

func annotate(t *testing.T, ns, name string, annotations map[string]any) {
	t.Helper()
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	if _, err := kube.CoreV1().ServiceAccounts(ns).Patch(context.Background(), name, "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func saAnnotations(t *testing.T, ns, name string) map[string]string {
	t.Helper()
	sa, err := kube.CoreV1().ServiceAccounts(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sa.Annotations
}

const applySetFile = `apiVersion: irsa.kubectl-irsa.io/v1alpha1
kind: IdentitySet
metadata:
  name: apply-a
spec:
  roles:
    - name: apply-a-api
      serviceAccounts: [apply-a/api, apply-a/worker]
      allow: [s3:GetObject, sqs:SendMessage]
    - name: apply-a-pi
      mechanism: pod-identity
      serviceAccounts: [apply-a/batch]
      allow: [s3:PutObject]
`

// TestApplySetConvergesAndRepairsEachDrift: apply of a new set creates everything and a repeat makes 0 AWS
// writes; each drift class made by hand is named by diff (exit 1) and repaired by apply (diff then exits 0); a
// statement written by hand is information, not drift.
func TestApplySetConvergesAndRepairsEachDrift(t *testing.T) {
	ns := "apply-a"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "api", nil)
	cleanupAssociations(t, ns)
	t.Cleanup(func() {
		for _, r := range []string{"apply-a-api", "apply-a-pi", "apply-a-other"} {
			deleteRoleIfExists(t, r)
		}
	})
	file := writeSet(t, applySetFile)

	if code, res := diffSet(t, file); code != 1 || !slices.Contains(driftOf(res), setup.DriftRoleMissing) {
		t.Fatalf("diff of a new set: exit %d, drift %v", code, driftOf(res))
	}
	counter.Reset()
	r := mustSucceed(t, irsaCmd(t, "apply", "-f", file))
	t.Logf("apply of a new set: %d AWS calls, writes %v", len(counter.Calls()), counter.Writes())
	apiARN := "arn:aws:iam::" + account + ":role/apply-a-api"
	for _, sa := range []string{"api", "worker"} {
		got := saAnnotations(t, ns, sa)
		if got[iamref.RoleARNAnnotation] != apiARN || got[setup.SetAnnotation] != "apply-a" {
			t.Errorf("%s annotations %v\n%s", sa, got, r)
		}
	}
	if subs := subjectsOf(t, "apply-a-api"); !slices.Contains(subs, trust.Subject(ns, "api")) || !slices.Contains(subs, trust.Subject(ns, "worker")) {
		t.Errorf("subjects %v", subs)
	}
	if a := association(t, ns, "batch"); a == nil || !strings.HasSuffix(aws.ToString(a.Association.RoleArn), ":role/apply-a-pi") {
		t.Fatalf("association of batch: %+v", a)
	}
	tags, err := iamClient.ListRoleTags(context.Background(), &iam.ListRoleTagsInput{RoleName: aws.String("apply-a-api")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(tags.Tags, func(tg iamtypes.Tag) bool {
		return aws.ToString(tg.Key) == setup.SetTagKey && aws.ToString(tg.Value) == "apply-a"
	}) {
		t.Errorf("role tags %v lack the set's", tags.Tags)
	}

	counter.Reset()
	again := mustSucceed(t, irsaCmd(t, "apply", "-f", file))
	if w := counter.Writes(); len(w) != 0 || !strings.Contains(again.stdout, "unchanged") {
		t.Errorf("second apply wrote %v\n%s", w, again)
	}
	if code, res := diffSet(t, file); code != 0 {
		t.Fatalf("diff after apply: exit %d, drift %+v", code, res.Drift)
	}

	// Drift made by hand, one of each class.
	annotate(t, ns, "api", map[string]any{iamref.RoleARNAnnotation: nil})
	annotate(t, ns, "worker", map[string]any{iamref.RoleARNAnnotation: "arn:aws:iam::" + account + ":role/elsewhere"})
	pol := rolePolicy(t, "apply-a-api")
	pol = editStatement(t, pol, setup.PolicySid(ns, "api"), nil)
	pol = editStatement(t, pol, setup.PolicySid(ns, "worker"), map[string]any{"Sid": setup.PolicySid(ns, "worker"), "Effect": "Allow", "Action": "s3:*", "Resource": "*"})
	putRolePolicy(t, "apply-a-api", pol)
	piPol := rolePolicy(t, "apply-a-pi")
	piPol = strings.Replace(piPol, `"Statement":[`, `"Statement":[{"Sid":"HandWritten","Effect":"Allow","Action":"kms:Decrypt","Resource":"*"},`, 1)
	putRolePolicy(t, "apply-a-pi", piPol)
	d := roleTrust(t, "apply-a-api")
	if _, err := d.RemoveSubjects(provider(), iamref.DefaultAudience, trust.Subject(ns, "worker")); err != nil {
		t.Fatal(err)
	}
	// and a cross-account principal added by hand: information, not drift
	d.Statements = append(d.Statements, json.RawMessage(`{"Sid":"CrossAccount","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}`))
	if _, err := iamClient.UpdateAssumeRolePolicy(context.Background(), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("apply-a-api"), PolicyDocument: aws.String(d.String())}); err != nil {
		t.Fatal(err)
	}
	a := association(t, ns, "batch")
	if _, err := eksClient().DeletePodIdentityAssociation(context.Background(), &eks.DeletePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: a.Association.AssociationId}); err != nil {
		t.Fatal(err)
	}
	annotate(t, ns, "batch", map[string]any{iamref.RoleARNAnnotation: apiARN})

	code, res := diffSet(t, file)
	want := []string{setup.DriftAnnotationMissing, setup.DriftAnnotationOther, setup.DriftAssociationMissing, setup.DriftMechanismConflict,
		setup.DriftStatementChanged, setup.DriftStatementMissing, setup.DriftSubjectMissing}
	if got := driftOf(res); code != 1 || !slices.Equal(got, want) {
		t.Errorf("diff after hand edits: exit %d, drift %v, want %v", code, got, want)
	}
	if !slices.ContainsFunc(res.Info, func(s string) bool {
		return strings.Contains(s, "inline policy kubectl-irsa has 1 statement(s) kubectl irsa did not write")
	}) {
		t.Errorf("the hand-written statement is not named as information: %v", res.Info)
	}
	if !slices.ContainsFunc(res.Info, func(s string) bool {
		return strings.Contains(s, "role apply-a-api: trust has 1 statement(s) kubectl irsa did not write") && strings.Contains(s, "AWS arn:aws:iam::999999999999:root")
	}) {
		t.Errorf("the cross-account trust statement is not named as information: %v", res.Info)
	}
	human := irsaCmd(t, "diff", "-f", file)
	if human.code != 1 || !strings.Contains(human.stdout, "drift: subject missing: role/apply-a-api") || !strings.Contains(human.stdout, "~ serviceaccount/apply-a/worker") {
		t.Errorf("human diff:\n%s", human)
	}

	mustSucceed(t, irsaCmd(t, "apply", "-f", file, "--prune"))
	if code, res := diffSet(t, file); code != 0 {
		t.Errorf("diff after the repair: exit %d, drift %+v", code, res.Drift)
	}
	if !strings.Contains(rolePolicy(t, "apply-a-pi"), "HandWritten") {
		t.Error("apply removed a statement written by hand")
	}
	if got := saAnnotations(t, ns, "batch"); got[iamref.RoleARNAnnotation] != "" || got[setup.SetAnnotation] != "apply-a" {
		t.Errorf("batch annotations after --prune %v", got)
	}

	// The role and the provider deleted by hand: named, then created again.
	deleteRoleIfExists(t, "apply-a-api")
	if _, err := iamClient.DeleteOpenIDConnectProvider(context.Background(), &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provider().ARN)}); err != nil {
		t.Fatal(err)
	}
	code, res = diffSet(t, file)
	if got := driftOf(res); code != 1 || !slices.Contains(got, setup.DriftRoleMissing) || !slices.Contains(got, setup.DriftProviderMissing) {
		t.Errorf("diff after deleting the role and provider: exit %d, drift %v", code, got)
	}
	mustSucceed(t, irsaCmd(t, "apply", "-f", file))
	if code, res := diffSet(t, file); code != 0 {
		t.Errorf("diff after re-creating: exit %d, drift %+v", code, res.Drift)
	}
}

// TestApplySetPrune: --prune removes a dropped ServiceAccount's subject, statement and annotations, deletes the
// role the set created once nothing uses it, and keeps a foreign statement, a ServiceAccount linked by `link` to
// the same role (untouched), a role the set did not create, and every ServiceAccount.
func TestApplySetPrune(t *testing.T) {
	ns := "apply-p"
	createNamespace(t, ns)
	for _, sa := range []string{"api", "worker", "linked", "legacy", "gone"} {
		createServiceAccount(t, ns, sa, nil)
	}
	t.Cleanup(func() {
		for _, r := range []string{"apply-p-shared", "apply-p-foreign", "apply-p-gone"} {
			deleteRoleIfExists(t, r)
		}
	})
	if _, err := iamClient.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String("apply-p-foreign"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[` + ec2Statement + `]}`)}); err != nil {
		t.Fatal(err)
	}
	full := fmt.Sprintf(`apiVersion: irsa.kubectl-irsa.io/v1alpha1
kind: IdentitySet
metadata: {name: apply-p}
spec:
  roles:
    - name: apply-p-shared
      serviceAccounts: [apply-p/api, apply-p/worker]
      allow: [s3:GetObject]
    - arn: arn:aws:iam::%s:role/apply-p-foreign
      serviceAccounts: [apply-p/legacy]
      allow: [sqs:ReceiveMessage]
    - name: apply-p-gone
      serviceAccounts: [apply-p/gone]
`, account)
	mustSucceed(t, irsaCmd(t, "apply", "-f", writeSet(t, full)))
	// A ServiceAccount linked by hand to the shared role, and a statement written by hand.
	mustSucceed(t, irsaCmd(t, "link", "linked", "-n", ns, "--role-name", "apply-p-shared", "--allow", "ec2:DescribeInstances"))
	linkedBefore := saAnnotations(t, ns, "linked")
	putRolePolicy(t, "apply-p-shared", strings.Replace(rolePolicy(t, "apply-p-shared"), `"Statement":[`, `"Statement":[{"Sid":"HandWritten","Effect":"Allow","Action":"kms:Decrypt","Resource":"*"},`, 1))

	dropped := writeSet(t, `apiVersion: irsa.kubectl-irsa.io/v1alpha1
kind: IdentitySet
metadata: {name: apply-p}
spec:
  roles:
    - name: apply-p-shared
      serviceAccounts: [apply-p/api]
      allow: [s3:GetObject]
`)
	code, res := diffSet(t, dropped)
	if got := driftOf(res); code != 1 || !slices.Contains(got, setup.DriftSubjectExtra) || !slices.Contains(got, setup.DriftStatementExtra) {
		t.Errorf("diff of the dropped ServiceAccounts: exit %d, drift %v", code, got)
	}
	counter.Reset()
	mustSucceed(t, irsaCmd(t, "apply", "-f", dropped))
	if w := counter.Writes(); len(w) != 0 {
		t.Errorf("apply without --prune wrote %v", w)
	}
	r := mustSucceed(t, irsaCmd(t, "apply", "-f", dropped, "--prune"))
	subs := subjectsOf(t, "apply-p-shared")
	if slices.Contains(subs, trust.Subject(ns, "worker")) || !slices.Contains(subs, trust.Subject(ns, "linked")) || !slices.Contains(subs, trust.Subject(ns, "api")) {
		t.Errorf("shared role subjects after --prune %v\n%s", subs, r)
	}
	pol := rolePolicy(t, "apply-p-shared")
	if strings.Contains(pol, setup.PolicySid(ns, "worker")) || !strings.Contains(pol, "HandWritten") || !strings.Contains(pol, setup.PolicySid(ns, "linked")) {
		t.Errorf("shared policy after --prune %s", pol)
	}
	if got := saAnnotations(t, ns, "linked"); !mapsEqual(got, linkedBefore) {
		t.Errorf("the ServiceAccount linked by link changed: %v, was %v", got, linkedBefore)
	}
	if roleTrust(t, "apply-p-gone") != nil {
		t.Errorf("the role the set created and nothing uses was kept\n%s", r)
	}
	foreign := roleTrust(t, "apply-p-foreign")
	if foreign == nil {
		t.Fatal("--prune deleted a role the set did not create")
	}
	if subs := foreign.Subjects(provider()); len(subs) != 0 || rolePolicy(t, "apply-p-foreign") != "" {
		t.Errorf("foreign role keeps the dropped ServiceAccount: subjects %v, policy %s", subs, rolePolicy(t, "apply-p-foreign"))
	}
	for _, sa := range []string{"worker", "legacy", "gone"} {
		got := saAnnotations(t, ns, sa)
		if got[iamref.RoleARNAnnotation] != "" || got[setup.SetAnnotation] != "" {
			t.Errorf("%s keeps %v after --prune", sa, got)
		}
	}
	if code, res := diffSet(t, dropped); code != 0 {
		t.Errorf("diff after --prune: exit %d, drift %+v", code, res.Drift)
	}
}

// TestApplySetRollsBack: a failure mid-apply (the association call refused) rolls back this run's delta: the
// role it created is deleted, the annotation it wrote removed.
func TestApplySetRollsBack(t *testing.T) {
	ns := "apply-r"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "a-irsa", nil)
	createServiceAccount(t, ns, "b-pi", nil)
	cleanupAssociations(t, ns)
	t.Cleanup(func() {
		for _, r := range []string{"apply-r-api", "apply-r-pi"} {
			deleteRoleIfExists(t, r)
		}
	})
	file := writeSet(t, `apiVersion: irsa.kubectl-irsa.io/v1alpha1
kind: IdentitySet
metadata: {name: apply-r}
spec:
  roles:
    - name: apply-r-api
      serviceAccounts: [apply-r/a-irsa]
      allow: [s3:GetObject]
    - name: apply-r-pi
      mechanism: pod-identity
      serviceAccounts: [apply-r/b-pi]
`)
	remove := counter.InjectFault(sandbox.Fault{Operation: "eks:CreatePodIdentityAssociation"})
	r := irsaCmd(t, "apply", "-f", file)
	remove()
	if r.code == 0 || !strings.Contains(r.stderr, "rolled back") {
		t.Fatalf("apply with a refused association: %s", r)
	}
	if roleTrust(t, "apply-r-api") != nil || roleTrust(t, "apply-r-pi") != nil {
		t.Errorf("a role this run created was kept after the rollback\n%s", r)
	}
	if got := saAnnotations(t, ns, "a-irsa"); got[iamref.RoleARNAnnotation] != "" || got[setup.SetAnnotation] != "" {
		t.Errorf("annotation kept after the rollback: %v", got)
	}
	mustSucceed(t, irsaCmd(t, "apply", "-f", file))
	if code, res := diffSet(t, file); code != 0 {
		t.Errorf("diff after the re-run: exit %d, drift %+v", code, res.Drift)
	}
}

// TestApplySetInvalidFile: a file that does not validate exits 2 naming the file and field, with no AWS call.
func TestApplySetInvalidFile(t *testing.T) {
	file := writeSet(t, "apiVersion: irsa.kubectl-irsa.io/v1alpha1\nkind: IdentitySet\nmetadata: {name: bad}\nspec:\n  roles:\n    - name: r\n      serviceAccounts: [nons]\n      bogus: 1\n")
	for _, cmd := range [][]string{{"apply", "-f", file}, {"diff", "-f", file}, {"apply", "-f", file, "--validate-only"}} {
		counter.Reset()
		r := irsaCmd(t, cmd...)
		if r.code != 2 || !strings.Contains(r.stderr, "identities.yaml") || !strings.Contains(r.stderr, "spec.roles[0]") {
			t.Errorf("%v: %s", cmd, r)
		}
		if calls := counter.Calls(); len(calls) != 0 {
			t.Errorf("%v made AWS calls %v", cmd, calls)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
