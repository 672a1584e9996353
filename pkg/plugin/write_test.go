package plugin_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

const (
	ns      = "irsa-sample-ns"
	saName  = "irsa-test"
	subject = "system:serviceaccount:" + ns + ":" + saName
)

// seed is the seed scenario's cluster: the namespace and the ServiceAccount, nothing in IAM.
func seed() *plugintest.Factory {
	return plugintest.NewFactory(plugintest.Namespace(ns), plugintest.ServiceAccount(ns, saName, nil))
}

func annotation(t *testing.T, tf *plugintest.Factory, namespace, name string) string {
	t.Helper()
	sa, err := tf.Kube.CoreV1().ServiceAccounts(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sa.Annotations[iamref.RoleARNAnnotation]
}

// ec2Trust is a trust policy of someone else's: EC2 may assume the role.
const ec2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// trusting returns a trust policy admitting the subjects through the fake cluster's provider (EC2's alone
// without subjects: IAM accepts no trust policy without a statement).
func trusting(subjects ...string) string {
	if len(subjects) == 0 {
		return ec2Trust
	}
	d := trust.New()
	d.AddSubjects(trust.NewProvider("aws", fakeaws.Account, plugintest.Issuer), iamref.DefaultAudience, subjects...)
	return d.String()
}

func count(calls []string, op string) int {
	n := 0
	for _, c := range calls {
		if c == op {
			n++
		}
	}
	return n
}

func TestLinkFreshThenUnchanged(t *testing.T) {
	tf := seed()
	out, errOut, code := tf.Run("link", saName, "-n", ns, "--role-name", "irsa-role", "--allow", "eks:ListClusters")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	wantARN := "arn:aws:iam::" + fakeaws.Account + ":role/irsa-role"
	if !strings.Contains(out, "linked "+ns+"/"+saName+" to "+wantARN) || !strings.Contains(out, "on issuer "+plugintest.HostPath) {
		t.Errorf("stdout:\n%s", out)
	}
	if got := strings.Join(tf.Cloud.Writes(), ","); got != "CreateOpenIDConnectProvider,CreateRole,PutRolePolicy" {
		t.Errorf("writes = %s", got)
	}
	if got := annotation(t, tf, ns, saName); got != wantARN {
		t.Errorf("annotation = %q", got)
	}
	if !strings.Contains(tf.Cloud.IAM.Trust("irsa-role"), subject) || !strings.Contains(tf.Cloud.IAM.Inline("irsa-role", "kubectl-irsa"), "eks:ListClusters") {
		t.Errorf("role: trust %s, policy %s", tf.Cloud.IAM.Trust("irsa-role"), tf.Cloud.IAM.Inline("irsa-role", "kubectl-irsa"))
	}
	// The issuer came from EKS (the fake API server serves no discovery document); the caller was asked once.
	if calls := tf.Cloud.Calls(); count(calls, "DescribeCluster") != 1 || count(calls, "GetCallerIdentity") != 1 {
		t.Errorf("calls = %v", calls)
	}

	before := len(tf.Cloud.Writes())
	out, _, code = tf.Run("link", saName, "-n", ns, "--role-name", "irsa-role", "--allow", "eks:ListClusters")
	if code != 0 || !strings.Contains(out, "unchanged: ") || len(tf.Cloud.Writes()) != before {
		t.Errorf("second run: exit %d, writes %v, stdout:\n%s", code, tf.Cloud.Writes()[before:], out)
	}
}

func TestLinkPolicyFileIsReadOnceAndNotCalledTrust(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(good, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`), 0o600)
	os.WriteFile(bad, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":`), 0o600)

	tf := seed()
	_, errOut, code := tf.Run("link", saName, "-n", ns, "--policy-file", bad)
	if code != 2 || !strings.Contains(errOut, "--policy-file") || strings.Contains(errOut, "trust policy") {
		t.Errorf("bad policy file: exit %d, %s", code, errOut)
	}
	out, errOut, code := tf.Run("link", saName, "-n", ns, "--role-name", "files", "--policy-file", good, "--dry-run")
	if code != 0 || !strings.Contains(out, "inline policy allowing s3:GetObject, s3:ListBucket") || len(tf.Cloud.Writes()) != 0 {
		t.Errorf("dry run: exit %d, writes %v, stdout:\n%s%s", code, tf.Cloud.Writes(), out, errOut)
	}
}

func TestLinkErrorsNameTheFlags(t *testing.T) {
	tf := seed()
	tf.Cloud.IAM.AddRole("/team/", "app", trusting())
	// A flag value that does not parse is a usage error (exit 2); what AWS or the cluster refuses is 1.
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"link", "nobody", "-n", ns}, "--create-service-account", 1},
		{[]string{"link", saName, "-n", ns, "--role-arn", "arn:aws:iam::" + fakeaws.Account + ":role/app"}, "path included", 1},
		{[]string{"link", saName, "-n", ns, "--role-arn", "arn:aws:iam::" + fakeaws.Account + ":role/nope"}, "--role-arn links an existing role", 1},
		{[]string{"link", saName, "-n", ns, "--allow", "ListClusters"}, "--allow: invalid action", 2},
		{[]string{"link", saName, "-n", ns, "--attach-policy-arn", "ReadOnlyAccess"}, "--attach-policy-arn: invalid policy ARN", 2},
		{[]string{"link", saName, "-n", ns, "--role-name", "x", "--attach-policy-arn", "arn:aws:iam::" + fakeaws.Account + ":policy/nope"}, "check the ARN given to --attach-policy-arn", 1},
	}
	for _, tt := range tests {
		_, errOut, code := tf.Run(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d (want %d), stderr %q, want %q", tt.args, code, tt.code, errOut, tt.want)
		}
	}
	if w := tf.Cloud.Writes(); len(w) != 0 {
		t.Errorf("writes: %v", w)
	}
}

func TestLinkWithPathRoleARN(t *testing.T) {
	tf := seed()
	tf.Cloud.IAM.AddProvider(plugintest.HostPath, iamref.DefaultAudience)
	arn := tf.Cloud.IAM.AddRole("/team/", "app", trusting())
	out, errOut, code := tf.Run("link", saName, "-n", ns, "--role-arn", arn)
	if code != 0 || annotation(t, tf, ns, saName) != arn || !strings.Contains(tf.Cloud.IAM.Trust("app"), subject) {
		t.Errorf("exit %d, annotation %q: %s%s", code, annotation(t, tf, ns, saName), out, errOut)
	}
}

func TestUnlink(t *testing.T) {
	tf := seed()
	if _, errOut, code := tf.Run("link", saName, "-n", ns, "--role-name", "irsa-role"); code != 0 {
		t.Fatal(errOut)
	}
	// The only subject: unlinking it alone would leave a trust IAM rejects, so it is refused before any write.
	writes := len(tf.Cloud.Writes())
	_, errOut, code := tf.Run("unlink", saName, "-n", ns)
	if code != 1 || !strings.Contains(errOut, "--delete-role") || strings.Contains(strings.TrimSpace(errOut), "\n") || len(tf.Cloud.Writes()) != writes || annotation(t, tf, ns, saName) == "" {
		t.Errorf("last subject: exit %d, writes %v: %s", code, tf.Cloud.Writes(), errOut)
	}
	out, _, code := tf.Run("unlink", saName, "-n", ns, "--dry-run", "--delete-role")
	if code != 0 || !strings.Contains(out, "Plan (dry run") || annotation(t, tf, ns, saName) == "" {
		t.Errorf("dry run: exit %d\n%s", code, out)
	}
	out, errOut, code = tf.Run("unlink", saName, "-n", ns, "--delete-role")
	if code != 0 || !strings.Contains(out, "unlinked "+ns+"/"+saName) {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if annotation(t, tf, ns, saName) != "" || tf.Cloud.IAM.Trust("irsa-role") != "" {
		t.Errorf("annotation %q, role trust %q left", annotation(t, tf, ns, saName), tf.Cloud.IAM.Trust("irsa-role"))
	}
	// Unlinking again is idempotent: exit 0, nothing to do, nothing written.
	writes = len(tf.Cloud.Writes())
	out, errOut, code = tf.Run("unlink", saName, "-n", ns)
	if code != 0 || !strings.Contains(out, "nothing to do") || len(tf.Cloud.Writes()) != writes {
		t.Errorf("second unlink: exit %d, writes %v: %s%s", code, tf.Cloud.Writes(), out, errOut)
	}
}

func TestUnlinkRefusesForeignRole(t *testing.T) {
	tf := seed()
	arn := tf.Cloud.IAM.AddRole("", "theirs", trusting(subject))
	_, _ = tf.Kube.CoreV1().ServiceAccounts(ns).Update(context.Background(), plugintest.ServiceAccount(ns, saName, map[string]string{iamref.RoleARNAnnotation: arn}), metav1.UpdateOptions{})
	_, errOut, code := tf.Run("unlink", saName, "-n", ns, "--delete-role")
	if code != 1 || !strings.Contains(errOut, "not created by kubectl irsa") || !strings.Contains(errOut, "drop --delete-role") || len(tf.Cloud.Writes()) != 0 {
		t.Errorf("exit %d, writes %v: %s", code, tf.Cloud.Writes(), errOut)
	}
}

func TestAnnotateDryRunThenWrite(t *testing.T) {
	tf := seed()
	arn := "arn:aws:iam::" + fakeaws.Account + ":role/team/app"
	out, errOut, code := tf.Run("annotate", saName, "-n", ns, "--role-arn", arn, "--dry-run")
	if code != 0 || !strings.Contains(out, "Plan (dry run") || !strings.Contains(out, "+ serviceaccount/"+ns+"/"+saName) {
		t.Errorf("dry run: exit %d: %s%s", code, out, errOut)
	}
	if got := annotation(t, tf, ns, saName); got != "" || tf.Requests("patch", "serviceaccounts") != 0 {
		t.Fatalf("dry run wrote: %q", got)
	}
	if _, errOut, code := tf.Run("annotate", saName, "-n", ns, "--role-arn", arn); code != 0 || annotation(t, tf, ns, saName) != arn {
		t.Errorf("exit %d, annotation %q: %s", code, annotation(t, tf, ns, saName), errOut)
	}
	_, errOut, code = tf.Run("annotate", saName, "-n", ns, "--role-arn", "arn:aws:iam::"+fakeaws.Account+":role/other")
	if code != 1 || !strings.Contains(errOut, "--overwrite") {
		t.Errorf("different annotation: exit %d, %s", code, errOut)
	}
	if len(tf.Cloud.Calls()) != 0 {
		t.Errorf("annotate called AWS: %v", tf.Cloud.Calls())
	}
}

func TestRoleCreate(t *testing.T) {
	tf := seed()
	out, errOut, code := tf.Run("role", "create", "shared", "--service-account", ns+"/"+saName+",other/worker", "--allow", "s3:GetObject")
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), ":role/shared") || !strings.Contains(errOut, "provider create") {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if tr := tf.Cloud.IAM.Trust("shared"); !strings.Contains(tr, subject) || !strings.Contains(tr, "system:serviceaccount:other:worker") {
		t.Errorf("trust = %s", tr)
	}
	tf2 := seed()
	out, _, code = tf2.Run("role", "create", "shared", "--service-account", ns+"/"+saName, "--allow", "s3:GetObject", "-o", "terraform")
	if code != 0 || !strings.Contains(out, `resource "aws_iam_role"`) || len(tf2.Cloud.Writes()) != 0 {
		t.Errorf("terraform: exit %d, writes %v:\n%s", code, tf2.Cloud.Writes(), out)
	}
	// The inline policy as code carries role create's Sid, as role create writes it.
	if !strings.Contains(out, `"Sid": "`+setup.RoleCreateSid+`"`) || !strings.Contains(tf.Cloud.IAM.Inline("shared", setup.InlinePolicyName), `"Sid":"`+setup.RoleCreateSid+`"`) {
		t.Errorf("inline policy without Sid %s: terraform\n%s\nwritten %s", setup.RoleCreateSid, out, tf.Cloud.IAM.Inline("shared", setup.InlinePolicyName))
	}
	if _, errOut, code := tf2.Run("role", "create", "x", "--service-account", "no-slash"); code != 2 || !strings.Contains(errOut, "NAMESPACE/NAME") {
		t.Errorf("bad --service-account: %d %s", code, errOut)
	}
}

func TestProviderCreate(t *testing.T) {
	tf := seed()
	out, errOut, code := tf.Run("provider", "create", "-o", "json")
	var res struct {
		Provider struct {
			ARN    string `json:"arn"`
			Exists bool   `json:"exists"`
		} `json:"provider"`
		Unchanged bool `json:"unchanged"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || !res.Provider.Exists || res.Unchanged {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if ids := tf.Cloud.IAM.ProviderClientIDs(plugintest.HostPath); !slices.Equal(ids, []string{iamref.DefaultAudience}) {
		t.Errorf("client IDs = %v", ids)
	}
	out, _, code = tf.Run("provider", "create")
	if code != 0 || !strings.Contains(out, "= oidc-provider/"+plugintest.HostPath) || count(tf.Cloud.Writes(), "CreateOpenIDConnectProvider") != 1 {
		t.Errorf("second run: exit %d, writes %v\n%s", code, tf.Cloud.Writes(), out)
	}
}
