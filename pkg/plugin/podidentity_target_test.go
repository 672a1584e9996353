package plugin_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
)

// TestDoctorAuditPodIdentityTargetRole: doctor and audit report an association's missing target role as
// PodIdentityTargetRoleMissing (the wording of test), say nothing when it exists, and report could-not-check,
// not a finding, when it cannot be read.
func TestDoctorAuditPodIdentityTargetRole(t *testing.T) {
	const other = "222222222222"
	withTarget := func(target string) *plugintest.Factory {
		tf := associated(piGoodTrust)
		tf.Cloud.EKS.Associations[0].TargetRoleArn = aws.String(target)
		tf.RoleCloud, tf.RoleAccount = fakeaws.New(), other
		return tf
	}
	sameAccount := "arn:aws:iam::" + fakeaws.Account + ":role/target"
	otherAccount := "arn:aws:iam::" + other + ":role/target"
	const summary = "chains role pi-role into target role "
	for _, cmd := range [][]string{{"doctor", saName, "-n", ns}, {"audit", "-n", ns}} {
		name := cmd[0]
		tf := withTarget(sameAccount)
		out, errOut, _ := tf.Run(cmd...)
		if !strings.Contains(out+errOut, "PodIdentityTargetRoleMissing") || !strings.Contains(out+errOut, summary+sameAccount+", which does not exist in account "+fakeaws.Account) {
			t.Errorf("%s, target missing:\n%s%s", name, out, errOut)
		}

		tf = withTarget(sameAccount)
		tf.Cloud.IAM.AddRole("", "target", piGoodTrust)
		if out, errOut, _ = tf.Run(cmd...); strings.Contains(out+errOut, "PodIdentityTargetRoleMissing") {
			t.Errorf("%s, target exists:\n%s%s", name, out, errOut)
		}

		tf = withTarget(otherAccount)
		tf.RoleCloud.Fail("GetRole", fakeaws.AccessDenied("GetRole"))
		out, errOut, _ = tf.Run(append(cmd, "--role-profile", "second")...)
		if strings.Contains(out+errOut, "PodIdentityTargetRoleMissing") || !strings.Contains(out+errOut, "could not check role target") {
			t.Errorf("%s, target unreadable:\n%s%s", name, out, errOut)
		}
	}
}

// TestLinkPodIdentityOtherInlinePoliciesTooLarge: the Pod Identity trust statement is written before the
// permissions, so the size of the role's inline policies together is checked before it: nothing is written.
func TestLinkPodIdentityOtherInlinePoliciesTooLarge(t *testing.T) {
	tf := seed()
	tf.Cloud.IAM.AddRole("", "shared", ec2Trust)
	tf.Cloud.IAM.PutInline("shared", "big", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+strings.Repeat("b", 10200)+`/*"}]}`)
	out, errOut, code := tf.Run("link", saName, "-n", ns, "--pod-identity", "--role-name", "shared", "--allow", "s3:GetObject")
	if code == 0 || !strings.Contains(errOut, "other inline policies (big)") || !strings.Contains(errOut, "--attach-policy-arn") {
		t.Fatalf("code %d: %s %s", code, out, errOut)
	}
	if w := tf.Cloud.Writes(); len(w) != 0 {
		t.Errorf("writes %v", w)
	}
}
