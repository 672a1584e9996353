package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

const account = "123456789012"

func createNamespace(t *testing.T, name string) {
	t.Helper()
	_, err := kube.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func createServiceAccount(t *testing.T, ns, name string, annotations map[string]string) {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: annotations}}
	if _, err := kube.CoreV1().ServiceAccounts(ns).Create(context.Background(), sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func roleAnnotation(t *testing.T, ns, name string) string {
	t.Helper()
	sa, err := kube.CoreV1().ServiceAccounts(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sa.Annotations[iamref.RoleARNAnnotation]
}

// roleTrust reads a role's trust policy from IAM, or nil when the role does not exist.
func roleTrust(t *testing.T, name string) *trust.Document {
	t.Helper()
	out, err := iamClient.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(name)})
	if awsapi.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	d, err := trust.Parse(aws.ToString(out.Role.AssumeRolePolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func provider() trust.Provider {
	return trust.NewProvider("aws", account, sb.Issuer)
}

// TestSeedScenario is the seed guide's set-up done in one command, then run again.
func TestSeedScenario(t *testing.T) {
	createNamespace(t, "irsa-sample-ns")
	createServiceAccount(t, "irsa-sample-ns", "irsa-test", nil)
	// A fresh account: no OIDC provider yet (an earlier test may have made one; link makes it again).
	_, err := iamClient.DeleteOpenIDConnectProvider(context.Background(), &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provider().ARN)})
	if err != nil && !awsapi.IsNotFound(err) {
		t.Fatal(err)
	}

	counter.Reset()
	r := mustSucceed(t, irsaCmd(t, "link", "irsa-test", "-n", "irsa-sample-ns", "--role-name", "irsa-role", "--allow", "eks:ListClusters"))
	fresh := counter.Calls()
	t.Logf("fresh link: %d AWS calls %v", len(fresh), fresh)
	if len(fresh) > 8 {
		t.Errorf("fresh link made %d AWS calls, want at most 8: %v", len(fresh), fresh)
	}
	for _, want := range []string{"+ oidc-provider/", "+ role/irsa-role: create role trusting system:serviceaccount:irsa-sample-ns:irsa-test", "eks:ListClusters", "linked irsa-sample-ns/irsa-test"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}

	// The exact trust statement of the contract.
	p := provider()
	doc := roleTrust(t, "irsa-role")
	if doc == nil || len(doc.Statements) != 1 {
		t.Fatalf("trust = %v", doc)
	}
	var st struct {
		Effect    string
		Principal map[string]string
		Action    string
		Condition map[string]map[string]string
	}
	if err := json.Unmarshal(doc.Statements[0], &st); err != nil {
		t.Fatal(err)
	}
	wantCond := map[string]map[string]string{"StringEquals": {
		p.HostPath + ":sub": "system:serviceaccount:irsa-sample-ns:irsa-test",
		p.HostPath + ":aud": "sts.amazonaws.com",
	}}
	if st.Effect != "Allow" || st.Action != "sts:AssumeRoleWithWebIdentity" || st.Principal["Federated"] != p.ARN {
		t.Errorf("statement = %+v", st)
	}
	if got, want := mustJSON(st.Condition), mustJSON(wantCond); got != want {
		t.Errorf("condition = %s, want %s", got, want)
	}
	if !strings.HasPrefix(p.ARN, "arn:aws:iam::"+account+":oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/") {
		t.Errorf("provider ARN = %s", p.ARN)
	}
	if _, err := iamClient.GetOpenIDConnectProvider(context.Background(), &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(p.ARN)}); err != nil {
		t.Errorf("OIDC provider not created: %v", err)
	}
	pol, err := iamClient.GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String("irsa-role"), PolicyName: aws.String("kubectl-irsa")})
	if err != nil || !strings.Contains(aws.ToString(pol.PolicyDocument), "eks%3AListClusters") && !strings.Contains(aws.ToString(pol.PolicyDocument), "eks:ListClusters") {
		t.Errorf("inline policy = %v, %v", pol, err)
	}
	if got := roleAnnotation(t, "irsa-sample-ns", "irsa-test"); got != "arn:aws:iam::"+account+":role/irsa-role" {
		t.Errorf("annotation = %q", got)
	}

	// Idempotent: the second run writes nothing and reads at most 5 times.
	counter.Reset()
	r = mustSucceed(t, irsaCmd(t, "link", "irsa-test", "-n", "irsa-sample-ns", "--role-name", "irsa-role", "--allow", "eks:ListClusters"))
	again := counter.Calls()
	t.Logf("repeated link: %d AWS calls %v", len(again), again)
	if w := counter.Writes(); len(w) != 0 {
		t.Errorf("repeated link wrote %v", w)
	}
	if len(again) > 5 {
		t.Errorf("repeated link made %d AWS calls, want at most 5: %v", len(again), again)
	}
	if !strings.Contains(r.stdout, "unchanged") {
		t.Errorf("repeated link does not say unchanged:\n%s", r.stdout)
	}

	// -o json is a typed result.
	r = mustSucceed(t, irsaCmd(t, "link", "irsa-test", "-n", "irsa-sample-ns", "--role-name", "irsa-role", "-o", "json"))
	var res api.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("-o json: %v\n%s", err, r.stdout)
	}
	if res.Kind != "LinkResult" || !res.Unchanged || res.Role.Name != "irsa-role" || res.ServiceAccounts[0].Subject != "system:serviceaccount:irsa-sample-ns:irsa-test" {
		t.Errorf("result = %+v", res)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSecondServiceAccountSameRole adds a ServiceAccount of another namespace to an existing role.
func TestSecondServiceAccountSameRole(t *testing.T) {
	createNamespace(t, "shared-a")
	createNamespace(t, "shared-b")
	createServiceAccount(t, "shared-a", "app", nil)
	createServiceAccount(t, "shared-b", "worker", nil)
	mustSucceed(t, irsaCmd(t, "link", "app", "-n", "shared-a", "--role-name", "shared-role"))
	mustSucceed(t, irsaCmd(t, "link", "worker", "-n", "shared-b", "--role-name", "shared-role"))
	doc := roleTrust(t, "shared-role")
	want := []string{"system:serviceaccount:shared-a:app", "system:serviceaccount:shared-b:worker"}
	if got := doc.Subjects(provider()); !slices.Equal(got, want) {
		t.Errorf("subjects = %v, want %v", got, want)
	}
	if len(doc.Statements) != 1 {
		t.Errorf("want one statement with a list of subjects, got %s", doc)
	}
	// --delete-role refuses while another subject remains, and changes nothing.
	r := irsaCmd(t, "unlink", "app", "-n", "shared-a", "--delete-role")
	if r.code == 0 || !strings.Contains(r.stderr, "still trusts other principals") || !strings.Contains(r.stderr, "shared-b:worker") {
		t.Errorf("delete-role with another subject left: %s", r)
	}
	if roleAnnotation(t, "shared-a", "app") == "" || len(roleTrust(t, "shared-role").Subjects(provider())) != 2 {
		t.Errorf("refused delete-role changed state")
	}
	// unlink removes only its subject.
	mustSucceed(t, irsaCmd(t, "unlink", "app", "-n", "shared-a"))
	if got := roleTrust(t, "shared-role").Subjects(provider()); !slices.Equal(got, want[1:]) {
		t.Errorf("after unlink subjects = %v", got)
	}
	if got := roleAnnotation(t, "shared-a", "app"); got != "" {
		t.Errorf("annotation left: %q", got)
	}
	if got := roleAnnotation(t, "shared-b", "worker"); got == "" {
		t.Errorf("other ServiceAccount lost its annotation")
	}
}

// TestForeignStatementKept links into a role that already trusts something else.
func TestForeignStatementKept(t *testing.T) {
	createNamespace(t, "foreign")
	createServiceAccount(t, "foreign", "app", nil)
	foreign := `{"Sid":"TeamCI","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:role/ci"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}}`
	_, err := iamClient.CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName:                 aws.String("foreign-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[` + foreign + `]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, irsaCmd(t, "link", "app", "-n", "foreign", "--role-name", "foreign-role"))
	doc := roleTrust(t, "foreign-role")
	if len(doc.Statements) != 2 || mustCompact(t, string(doc.Statements[0])) != mustCompact(t, foreign) {
		t.Errorf("foreign statement not kept intact: %s", doc)
	}
	// unlink leaves it too; --delete-role refuses: not ours.
	r := irsaCmd(t, "unlink", "app", "-n", "foreign", "--delete-role")
	if r.code == 0 || !strings.Contains(r.stderr, "not created by kubectl irsa") {
		t.Errorf("delete-role on a foreign role: %s", r)
	}
	mustSucceed(t, irsaCmd(t, "unlink", "app", "-n", "foreign"))
	doc = roleTrust(t, "foreign-role")
	if len(doc.Statements) != 1 || mustCompact(t, string(doc.Statements[0])) != mustCompact(t, foreign) {
		t.Errorf("after unlink: %s", doc)
	}
}

func mustCompact(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return mustJSON(v)
}

// TestUnlinkDeleteRole deletes a role kubectl irsa created once its last subject is gone.
func TestUnlinkDeleteRole(t *testing.T) {
	createNamespace(t, "gone")
	createServiceAccount(t, "gone", "app", nil)
	policy, err := iamClient.CreatePolicy(context.Background(), &iam.CreatePolicyInput{
		PolicyName:     aws.String("gone-read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, irsaCmd(t, "link", "app", "-n", "gone", "--role-name", "gone-role", "--allow", "s3:GetObject",
		"--attach-policy-arn", aws.ToString(policy.Policy.Arn)))
	r := mustSucceed(t, irsaCmd(t, "unlink", "app", "-n", "gone", "--delete-role", "--dry-run"))
	if roleTrust(t, "gone-role") == nil || roleAnnotation(t, "gone", "app") == "" || !strings.Contains(r.stdout, "- role/gone-role") {
		t.Fatalf("dry run changed something or planned no deletion: %s", r)
	}
	mustSucceed(t, irsaCmd(t, "unlink", "app", "-n", "gone", "--delete-role"))
	if roleTrust(t, "gone-role") != nil {
		t.Errorf("role not deleted")
	}
}

// TestDryRunWritesNothing checks that --dry-run prints the plan and makes no write anywhere.
func TestDryRunWritesNothing(t *testing.T) {
	createNamespace(t, "dry")
	createServiceAccount(t, "dry", "app", nil)
	counter.Reset()
	r := mustSucceed(t, irsaCmd(t, "link", "app", "-n", "dry", "--role-name", "dry-role", "--allow", "s3:GetObject", "--dry-run"))
	if w := counter.Writes(); len(w) != 0 {
		t.Errorf("dry run wrote %v", w)
	}
	if roleTrust(t, "dry-role") != nil || roleAnnotation(t, "dry", "app") != "" {
		t.Errorf("dry run changed state")
	}
	if !strings.Contains(r.stdout, "+ role/dry-role") || !strings.Contains(r.stdout, "dry run") {
		t.Errorf("plan not printed:\n%s", r.stdout)
	}
}

// TestCreateServiceAccountAndRestart covers --create-service-account, stale pods and --restart.
func TestCreateServiceAccountAndRestart(t *testing.T) {
	createNamespace(t, "apps")
	mustSucceed(t, irsaCmd(t, "link", "new-sa", "-n", "apps", "--create-service-account", "--role-name", "apps-role"))
	if roleAnnotation(t, "apps", "new-sa") == "" {
		t.Fatal("created ServiceAccount not annotated")
	}

	createServiceAccount(t, "apps", "web", nil)
	labels := map[string]string{"app": "web"}
	podSpec := corev1.PodSpec{ServiceAccountName: "web", Containers: []corev1.Container{{Name: "c", Image: "amazon/aws-cli"}}}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec},
		},
	}
	ctx := context.Background()
	if _, err := kube.AppsV1().Deployments("apps").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-old", Namespace: "apps", Labels: labels}, Spec: podSpec}
	if _, err := kube.CoreV1().Pods("apps").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := mustSucceed(t, irsaCmd(t, "link", "web", "-n", "apps", "--role-name", "apps-role"))
	if !strings.Contains(r.stderr, "web-old") || !strings.Contains(r.stderr, "kubectl rollout restart deployment/web -n apps") {
		t.Errorf("stale pod and restart command not listed:\n%s", r)
	}
	mustSucceed(t, irsaCmd(t, "annotate", "web", "-n", "apps", "--role-arn", "arn:aws:iam::"+account+":role/apps-role", "--restart"))
	got, err := kube.AppsV1().Deployments("apps").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] == "" {
		t.Errorf("deployment not restarted")
	}
}

// TestBadInputsWriteNothing runs every rejected input and checks the one-line error, the exit code, and that
// nothing was written in IAM or Kubernetes.
func TestBadInputsWriteNothing(t *testing.T) {
	createNamespace(t, "bad")
	createServiceAccount(t, "bad", "app", nil)
	createServiceAccount(t, "bad", "taken", map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + account + ":role/someone-else"})
	badPolicy := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(badPolicy, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":`), 0o600); err != nil {
		t.Fatal(err)
	}
	// A role whose trust is nearly full: adding one subject overflows the limit.
	full := trust.New()
	for i := 0; full.Size() < trust.DefaultSizeLimit-40; i++ {
		full.AddSubjects(provider(), trust.DefaultAudience, trust.Subject("bad", fmt.Sprintf("filler-%03d", i)))
	}
	if full.Size() > trust.DefaultSizeLimit {
		t.Fatalf("filler trust is %d characters", full.Size())
	}
	if _, err := iamClient.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String("full-role"), AssumeRolePolicyDocument: aws.String(full.String())}); err != nil {
		t.Fatal(err)
	}
	// The viewer may read but not patch ServiceAccounts.
	grantViewer(t, "bad")

	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"invalid ServiceAccount name", nil, []string{"link", "Bad_Name", "-n", "bad"}, "invalid ServiceAccount name"},
		{"missing namespace", nil, []string{"link", "app", "-n", "no-such-ns"}, `namespace "no-such-ns" not found`},
		{"missing ServiceAccount", nil, []string{"link", "nobody", "-n", "bad"}, "--create-service-account"},
		{"invalid role name", nil, []string{"link", "app", "-n", "bad", "--role-name", "bad/role"}, "invalid IAM role name"},
		{"role name too long", nil, []string{"link", "app", "-n", "bad", "--role-name", strings.Repeat("r", 65)}, "invalid IAM role name"},
		{"invalid role ARN", nil, []string{"link", "app", "-n", "bad", "--role-arn", "arn:aws:iam::::role"}, "invalid role ARN"},
		{"role ARN that does not exist", nil, []string{"link", "app", "-n", "bad", "--role-arn", "arn:aws:iam::" + account + ":role/bad-role"}, "--role-arn links an existing role"},
		{"both role flags", nil, []string{"link", "app", "-n", "bad", "--role-name", "a", "--role-arn", "arn:aws:iam::" + account + ":role/a"}, "not both"},
		{"invalid action", nil, []string{"link", "app", "-n", "bad", "--allow", "ListClusters"}, "invalid action"},
		{"invalid policy file", nil, []string{"link", "app", "-n", "bad", "--policy-file", badPolicy}, "--policy-file"},
		{"invalid managed policy ARN", nil, []string{"link", "app", "-n", "bad", "--attach-policy-arn", "ReadOnlyAccess"}, "invalid policy ARN"},
		{"managed policy that does not exist", nil, []string{"link", "app", "-n", "bad", "--role-name", "bad-role", "--attach-policy-arn", "arn:aws:iam::" + account + ":policy/nope"}, "does not exist"},
		{"already annotated", nil, []string{"link", "taken", "-n", "bad", "--role-name", "bad-role"}, "--overwrite"},
		{"trust over the size limit", nil, []string{"link", "app", "-n", "bad", "--role-name", "full-role"}, "over the account's quota of 2048"},
		{"no permission to annotate", []string{"KUBECONFIG=" + sb.ViewerKubeconfig}, []string{"link", "app", "-n", "bad", "--role-name", "bad-role"}, "may not patch serviceaccounts"},
		{"AWS unreachable", []string{"AWS_ENDPOINT_URL=http://127.0.0.1:1", "AWS_MAX_ATTEMPTS=1"}, []string{"link", "app", "-n", "bad", "--role-name", "bad-role"}, "cannot reach AWS"},
		{"no kubeconfig", []string{"KUBECONFIG=/nonexistent/kubeconfig"}, []string{"link", "app", "-n", "bad"}, "kubeconfig"},
		{"bad output format", nil, []string{"link", "app", "-n", "bad", "-o", "xml"}, "unsupported output format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counter.Reset()
			r := kubectl(t, env(tt.env...), append([]string{"irsa"}, tt.args...)...)
			if r.code == 0 {
				t.Fatalf("accepted: %s", r)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("want one error line containing %q, got:\n%s", tt.want, r.stderr)
			}
			if w := counter.Writes(); len(w) != 0 {
				t.Errorf("IAM writes made: %v", w)
			}
			if roleTrust(t, "bad-role") != nil {
				t.Errorf("role bad-role was created")
			}
			if got := roleAnnotation(t, "bad", "app"); got != "" {
				t.Errorf("ServiceAccount annotated: %s", got)
			}
			if got := roleAnnotation(t, "bad", "taken"); !strings.HasSuffix(got, "role/someone-else") {
				t.Errorf("existing annotation changed: %s", got)
			}
		})
	}
	if got := roleTrust(t, "full-role"); !got.Equal(full) {
		t.Errorf("full-role trust changed")
	}
}

// grantViewer lets irsa-viewer read namespaces and ServiceAccounts (not patch them).
func grantViewer(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	rules := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces", "serviceaccounts", "pods"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets", "daemonsets"}, Verbs: []string{"get", "list"}}}
	if _, err := kube.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "irsa-viewer"}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "irsa-viewer"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "irsa-viewer"},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: "irsa-viewer"}},
	}
	if _, err := kube.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestRoleCreate creates a role for several ServiceAccounts, and renders one as code without writing.
func TestRoleCreate(t *testing.T) {
	counter.Reset()
	r := mustSucceed(t, irsaCmd(t, "role", "create", "iac-role", "--service-account", "a/one,b/two", "--allow", "s3:GetObject", "-o", "terraform"))
	if w := counter.Writes(); len(w) != 0 || roleTrust(t, "iac-role") != nil {
		t.Errorf("-o terraform wrote %v", w)
	}
	if !strings.Contains(r.stdout, `"Federated": "`+provider().ARN+`"`) || !strings.Contains(r.stdout, "system:serviceaccount:b:two") {
		t.Errorf("terraform:\n%s", r.stdout)
	}
	r = mustSucceed(t, irsaCmd(t, "role", "create", "iac-role", "--service-account", "a/one", "-o", "cloudformation"))
	if !strings.Contains(r.stdout, "AWS::IAM::Role") {
		t.Errorf("cloudformation:\n%s", r.stdout)
	}

	mustSucceed(t, irsaCmd(t, "role", "create", "multi-role", "--service-account", "a/one,b/two", "--allow", "s3:GetObject"))
	if got := roleTrust(t, "multi-role").Subjects(provider()); !slices.Equal(got, []string{"system:serviceaccount:a:one", "system:serviceaccount:b:two"}) {
		t.Errorf("subjects = %v", got)
	}
	r = irsaCmd(t, "role", "create", "bad", "--service-account", "not-namespaced")
	if r.code == 0 || !strings.Contains(r.stderr, "NAMESPACE/NAME") {
		t.Errorf("bad --service-account: %s", r)
	}
}

// TestCustomAudience: the SA's eks.amazonaws.com/audience goes into the trust, and the provider gains it as a
// client ID.
func TestCustomAudience(t *testing.T) {
	createNamespace(t, "aud")
	createServiceAccount(t, "aud", "app", map[string]string{iamref.AudienceAnnotation: "custom-aud"})
	// moto does not implement AddClientIDToOpenIDConnectProvider (HTTP 500; unit-tested with a fake instead),
	// so this starts without a provider and link creates it with the custom audience as client ID.
	_, err := iamClient.DeleteOpenIDConnectProvider(context.Background(), &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provider().ARN)})
	if err != nil && !awsapi.IsNotFound(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = iamClient.DeleteOpenIDConnectProvider(context.Background(), &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provider().ARN)})
		mustSucceed(t, irsaCmd(t, "provider", "create"))
	})
	r := mustSucceed(t, irsaCmd(t, "link", "app", "-n", "aud", "--role-name", "aud-role"))
	if !strings.Contains(r.stdout, "custom-aud") {
		t.Errorf("plan does not mention the audience:\n%s", r.stdout)
	}
	doc := roleTrust(t, "aud-role")
	if !doc.Evaluate(trust.Claims{ProviderARN: provider().ARN, HostPath: provider().HostPath, Subject: "system:serviceaccount:aud:app", Audience: "custom-aud"}).Allowed {
		t.Errorf("trust does not admit the custom audience: %s", doc)
	}
	out, err := iamClient.GetOpenIDConnectProvider(context.Background(), &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provider().ARN)})
	if err != nil || !slices.Contains(out.ClientIDList, "custom-aud") {
		t.Errorf("provider client IDs = %v (%v)", out, err)
	}
	mustSucceed(t, irsaCmd(t, "test", "app", "-n", "aud"))
}
