package plugin_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

func roleTrustDoc(t *testing.T, tf *plugintest.Factory, name string) *trust.Document {
	t.Helper()
	d, err := trust.Parse(tf.Cloud.IAM.Trust(name))
	if err != nil {
		t.Fatalf("trust of %s: %v", name, err)
	}
	return d
}

func TestLinkPodIdentityFreshThenRepeat(t *testing.T) {
	tf := seed()
	out, errOut, code := tf.Run("link", saName, "-n", ns, "--pod-identity", "--role-name", "pi-role", "--allow", "s3:GetObject")
	if code != 0 {
		t.Fatalf("code %d: %s %s", code, out, errOut)
	}
	if n := len(tf.Cloud.Calls()); n > 8 {
		t.Errorf("fresh link --pod-identity made %d AWS calls, want <= 8: %v", n, tf.Cloud.Calls())
	}
	if !strings.Contains(errOut, "not installed") {
		t.Errorf("no agent warning on stderr: %q", errOut)
	}
	a := tf.Cloud.EKS.Association(ns, saName)
	if a == nil || !strings.HasSuffix(aws.ToString(a.RoleArn), ":role/pi-role") {
		t.Fatalf("association = %+v", a)
	}
	doc := roleTrustDoc(t, tf, "pi-role")
	if doc.EvaluatePodIdentity(trust.PodIdentityRequest{}).Verdict != trust.Admits {
		t.Errorf("trust does not admit Pod Identity: %s", doc)
	}
	if annotation(t, tf, ns, saName) != "" {
		t.Errorf("link --pod-identity wrote the role annotation")
	}
	before := len(tf.Cloud.Writes())
	out, errOut, code = tf.Run("link", saName, "-n", ns, "--pod-identity", "--role-name", "pi-role", "--allow", "s3:GetObject")
	if code != 0 || !strings.Contains(out, "unchanged") {
		t.Fatalf("repeat: code %d: %s %s", code, out, errOut)
	}
	if w := tf.Cloud.Writes()[before:]; len(w) != 0 {
		t.Errorf("repeat wrote %v", w)
	}
}

func TestLinkPodIdentityMergesAndRollsBack(t *testing.T) {
	tf := seed()
	tf.Cloud.IAM.AddRole("", "shared", ec2Trust)
	tf.Cloud.Fail("CreatePodIdentityAssociation", fakeaws.AccessDenied("CreatePodIdentityAssociation"))
	_, errOut, code := tf.Run("link", saName, "-n", ns, "--pod-identity", "--role-name", "shared")
	if code == 0 || !strings.Contains(errOut, "rolled back") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	if got := tf.Cloud.IAM.Trust("shared"); mustCompactJSON(t, got) != mustCompactJSON(t, ec2Trust) {
		t.Errorf("trust after rollback = %s, want the former %s", got, ec2Trust)
	}
	tf.Cloud.Fail("CreatePodIdentityAssociation", nil)
	if _, errOut, code = tf.Run("link", saName, "-n", ns, "--pod-identity", "--role-name", "shared"); code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	doc := roleTrustDoc(t, tf, "shared")
	if len(doc.Statements) != 2 || string(doc.Statements[0]) != `{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}` {
		t.Errorf("foreign statement not kept first and intact: %s", doc)
	}
}

func TestLinkPodIdentityOverwriteAndUnlink(t *testing.T) {
	tf := seed()
	tf.Cloud.EKS.Addons = []string{fakeaws.AgentAddon}
	other := tf.Cloud.IAM.AddRole("", "other", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`)
	tf.Cloud.EKS.AddAssociation(plugintest.ClusterName, ns, saName, other)
	_, errOut, code := tf.Run("link", saName, "-n", ns, "--pod-identity", "--role-name", "mine")
	if code == 0 || !strings.Contains(errOut, "--overwrite") {
		t.Fatalf("want refusal naming --overwrite, got %d %q", code, errOut)
	}
	if _, errOut, code = tf.Run("link", saName, "-n", ns, "--pod-identity", "--role-name", "mine", "--overwrite"); code != 0 || strings.Contains(errOut, "not installed") {
		t.Fatalf("overwrite: %d %q", code, errOut)
	}
	if a := tf.Cloud.EKS.Association(ns, saName); !strings.HasSuffix(aws.ToString(a.RoleArn), "/mine") {
		t.Fatalf("association role = %s", aws.ToString(a.RoleArn))
	}
	// A second ServiceAccount on the same role keeps the statement when the first unlinks.
	tf.Cloud.EKS.AddAssociation(plugintest.ClusterName, "elsewhere", "worker", aws.ToString(tf.Cloud.EKS.Association(ns, saName).RoleArn))
	out, errOut, code := tf.Run("unlink", saName, "-n", ns, "--pod-identity")
	if code != 0 || tf.Cloud.EKS.Association(ns, saName) != nil {
		t.Fatalf("unlink: %d %s %s", code, out, errOut)
	}
	if !strings.Contains(tf.Cloud.IAM.Trust("mine"), trust.PodIdentitySid) || !strings.Contains(errOut, "still used") {
		t.Errorf("statement removed although another association uses the role: %s / %s", tf.Cloud.IAM.Trust("mine"), errOut)
	}
	// The last user of a role kubectl irsa created: --delete-role deletes it.
	mine := aws.ToString(tf.Cloud.EKS.Association("elsewhere", "worker").RoleArn)
	tf.Cloud.EKS.Associations = nil
	tf.Cloud.EKS.AddAssociation(plugintest.ClusterName, ns, saName, mine)
	if _, errOut, code = tf.Run("unlink", saName, "-n", ns, "--pod-identity", "--delete-role"); code != 0 {
		t.Fatalf("unlink --delete-role: %d %s", code, errOut)
	}
	if tf.Cloud.IAM.Trust("mine") != "" || !slices.Contains(tf.Cloud.Writes(), "DeleteRole") {
		t.Errorf("role mine not deleted: %v", tf.Cloud.Writes())
	}
}

func mustCompactJSON(t *testing.T, s string) string {
	t.Helper()
	d, err := trust.Parse(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return d.String()
}

func TestLinkPodIdentityNeedsClusterName(t *testing.T) {
	tf := seed()
	tf.Cluster.Name = ""
	_, errOut, code := tf.Run("link", saName, "-n", ns, "--pod-identity")
	if code == 0 || !strings.Contains(errOut, "--eks-cluster") || len(tf.Cloud.Writes()) != 0 {
		t.Fatalf("want an error naming --eks-cluster and no write: %d %q %v", code, errOut, tf.Cloud.Writes())
	}
	if _, errOut, code = tf.Run("migrate", saName, "-n", ns); code == 0 || !strings.Contains(errOut, "--eks-cluster") {
		t.Fatalf("migrate: %d %q", code, errOut)
	}
}

func TestLinkPodIdentityServiceAccountNotYetCreated(t *testing.T) {
	tf := plugintest.NewFactory(plugintest.Namespace(ns))
	out, errOut, code := tf.Run("link", "later", "-n", ns, "--pod-identity", "--role-name", "later-role")
	if code != 0 || tf.Cloud.EKS.Association(ns, "later") == nil || !strings.Contains(errOut, "does not exist yet") {
		t.Fatalf("%d %s %s", code, out, errOut)
	}
	if _, err := tf.Kube.CoreV1().ServiceAccounts(ns).Get(context.Background(), "later", metav1.GetOptions{}); err == nil {
		t.Errorf("link --pod-identity created the ServiceAccount")
	}
}

// TestLinkPodIdentityTargetRole: a target role that does not exist in the caller's account is refused before
// any write; one that exists is linked; one in another account is linked with a note that it was not checked.
func TestLinkPodIdentityTargetRole(t *testing.T) {
	tf := seed()
	missing := "arn:aws:iam::" + fakeaws.Account + ":role/absent"
	out, errOut, code := tf.Run("link", saName, "-n", ns, "--pod-identity", "--role-name", "pi-role", "--target-role-arn", missing)
	if code == 0 || !strings.Contains(errOut, "target role "+missing+" does not exist in account "+fakeaws.Account) || !strings.Contains(errOut, "--target-role-arn") {
		t.Fatalf("missing target: code %d: %s %s", code, out, errOut)
	}
	if w := tf.Cloud.Writes(); len(w) != 0 {
		t.Errorf("missing target: writes %v", w)
	}

	tf.Cloud.IAM.AddRole("/team/", "pathed", ec2Trust)
	pathed := "arn:aws:iam::" + fakeaws.Account + ":role/pathed"
	if out, errOut, code = tf.Run("link", saName, "-n", ns, "--pod-identity", "--role-name", "pi-role", "--target-role-arn", pathed); code == 0 || !strings.Contains(errOut, "path included") {
		t.Fatalf("target at another path: code %d: %s %s", code, out, errOut)
	}
	if w := tf.Cloud.Writes(); len(w) != 0 {
		t.Errorf("target at another path: writes %v", w)
	}

	tf.Cloud.IAM.AddRole("/", "target", ec2Trust)
	present := "arn:aws:iam::" + fakeaws.Account + ":role/target"
	if out, errOut, code = tf.Run("link", saName, "-n", ns, "--pod-identity", "--role-name", "pi-role", "--target-role-arn", present); code != 0 || strings.Contains(errOut, "target role") {
		t.Fatalf("existing target: code %d: %s %s", code, out, errOut)
	}
	if a := tf.Cloud.EKS.Association(ns, saName); a == nil || aws.ToString(a.TargetRoleArn) != present {
		t.Fatalf("association = %+v", a)
	}

	other := "arn:aws:iam::210987654321:role/elsewhere"
	if other == "arn:aws:iam::"+fakeaws.Account+":role/elsewhere" {
		t.Fatal("the other account is the caller's")
	}
	out, errOut, code = tf.Run("link", saName, "-n", ns, "--pod-identity", "--role-name", "pi-role", "--target-role-arn", other)
	if code != 0 || !strings.Contains(errOut, "could not check that it exists") {
		t.Fatalf("other account: code %d: %s %s", code, out, errOut)
	}
	if a := tf.Cloud.EKS.Association(ns, saName); a == nil || aws.ToString(a.TargetRoleArn) != other {
		t.Fatalf("association = %+v", a)
	}

	// Another partition, the same account number: not this IAM's role, so not checked (and not refused).
	china := "arn:aws-cn:iam::" + fakeaws.Account + ":role/elsewhere"
	out, errOut, code = tf.Run("link", saName, "-n", ns, "--pod-identity", "--role-name", "pi-role", "--target-role-arn", china)
	if code != 0 || !strings.Contains(errOut, "is in partition aws-cn, not in this one (aws): could not check that it exists") {
		t.Fatalf("other partition: code %d: %s %s", code, out, errOut)
	}
}
