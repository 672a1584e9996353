package plugin_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/identityset"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
)

// linkedForExport links three ServiceAccounts of ns the way users do: two on one role with the same actions,
// one through Pod Identity with a policy document.
func linkedForExport(t *testing.T) *plugintest.Factory {
	t.Helper()
	tf := plugintest.NewFactory(plugintest.Namespace(ns), plugintest.ServiceAccount(ns, "api", nil), plugintest.ServiceAccount(ns, "worker", nil), plugintest.ServiceAccount(ns, "cart", nil))
	for _, args := range [][]string{
		{"link", "api", "-n", ns, "--role-name", "shared", "--allow", "sqs:SendMessage,s3:GetObject"},
		{"link", "worker", "-n", ns, "--role-name", "shared", "--allow", "s3:GetObject,sqs:SendMessage", "--attach-policy-arn", "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"},
		{"link", "cart", "-n", ns, "--pod-identity", "--role-name", "cart-pi", "--allow", "dynamodb:GetItem"},
	} {
		if _, errOut, code := tf.Run(args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
	}
	return tf
}

// TestExportLinked: export writes what link made, as a file Load accepts.
func TestExportLinked(t *testing.T) {
	tf := linkedForExport(t)
	writes := len(tf.Cloud.Writes())
	for _, format := range []string{"yaml", "json"} {
		out, errOut, code := tf.Run("export", "-n", ns, "-o", format)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		docs, err := identityset.Load([]string{"-"}, strings.NewReader(out))
		if err != nil {
			t.Fatalf("%s: the export does not load: %v\n%s", format, err, out)
		}
		set := docs[0].Set
		if set.Metadata.Name != ns {
			t.Errorf("%s: name %q, want the namespace", format, set.Metadata.Name)
		}
		got, _ := json.Marshal(set.Spec.Roles)
		want, _ := json.Marshal([]identityset.Role{
			{Name: "cart-pi", Mechanism: "pod-identity", ServiceAccounts: []string{ns + "/cart"}, Allow: []string{"dynamodb:GetItem"}},
			{Name: "shared", ServiceAccounts: []string{ns + "/api", ns + "/worker"}, Allow: []string{"s3:GetObject", "sqs:SendMessage"},
				ManagedPolicies: []string{"arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"}},
		})
		if string(got) != string(want) {
			t.Errorf("%s: roles\n got %s\nwant %s", format, got, want)
		}
	}
	if w := tf.Cloud.Writes(); len(w) != writes {
		t.Errorf("export wrote: %v", w[writes:])
	}
}

// TestExportIncompleteWritesNothing: a denied read makes exit 2 with the reason, and no file.
func TestExportIncompleteWritesNothing(t *testing.T) {
	for _, call := range []string{"GetRolePolicy", "ListAttachedRolePolicies", "GetRole", "ListPodIdentityAssociations"} {
		tf := linkedForExport(t)
		tf.Cloud.Fail(call, fakeaws.AccessDenied(call))
		out, errOut, code := tf.Run("export", "-n", ns)
		if code != 2 || out != "" || !strings.Contains(errOut, "nothing was written") {
			t.Errorf("%s denied: exit %d, stdout %q, stderr %q", call, code, out, errOut)
		}
	}
}

func TestExportUsage(t *testing.T) {
	tf := linkedForExport(t)
	calls := len(tf.Cloud.Calls())
	for _, args := range [][]string{{"export", "--name", "Bad_Name"}, {"export", "-o", "xml"}} {
		if _, errOut, code := tf.Run(args...); code != 2 || !strings.Contains(errOut, "see 'kubectl irsa export --help'") {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
	if c := tf.Cloud.Calls(); len(c) != calls {
		t.Errorf("a usage error called AWS: %v", c[calls:])
	}
}

func TestSchemaCommand(t *testing.T) {
	out, _, code := plugintest.NewFactory().Run("schema")
	var schema map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &schema) != nil || schema["title"] != "IdentitySet" {
		t.Errorf("exit %d: %.200s", code, out)
	}
	if !slices.Equal([]byte(out), identityset.Schema()) {
		t.Errorf("schema prints something else than identityset.Schema")
	}
}

// TestExportLeavesOutWhatTheTrustRefuses: a ServiceAccount annotated by hand with a role whose trust does not admit
// it is left out of the export and named on stderr, so applying the export grants nobody a role they did not have.
func TestExportLeavesOutWhatTheTrustRefuses(t *testing.T) {
	tf := linkedForExport(t)
	roleARN := "arn:aws:iam::" + fakeaws.Account + ":role/shared"
	if _, err := tf.Kube.CoreV1().ServiceAccounts(ns).Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Name: "intruder", Namespace: ns, Annotations: map[string]string{"eks.amazonaws.com/role-arn": roleARN}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := tf.Run("export", "-n", ns)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "intruder") || !strings.Contains(errOut, ns+"/intruder") || !strings.Contains(errOut, "does not admit") {
		t.Errorf("export of a ServiceAccount the trust refuses:\n%s\n%s", out, errOut)
	}
	if !strings.Contains(out, ns+"/api") {
		t.Errorf("the linked ServiceAccounts are missing:\n%s", out)
	}
}
