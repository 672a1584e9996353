package plugin_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
)

// TestLinkTooLargeWritesNoProvider (found by review): an IRSA link refused for the size of the role's inline
// policies together writes nothing, not even the OIDC provider it would have created first.
func TestLinkTooLargeWritesNoProvider(t *testing.T) {
	tf := seed()
	tf.Cloud.IAM.AddRole("", "shared", ec2Trust)
	tf.Cloud.IAM.PutInline("shared", "big", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+strings.Repeat("b", 10200)+`/*"}]}`)
	_, errOut, code := tf.Run("link", saName, "-n", ns, "--role-name", "shared", "--allow", "s3:GetObject")
	if code == 0 || !strings.Contains(errOut, "10240") {
		t.Fatalf("not refused: exit %d, %s", code, errOut)
	}
	if w := tf.Cloud.Writes(); len(w) != 0 {
		t.Errorf("writes %v", w)
	}
}

// TestDoctorTargetMissingAndTrustInvalid (found by review): a role whose trust refuses EKS Pod Identity and
// whose association's target role is missing has two problems; doctor reports both.
func TestDoctorTargetMissingAndTrustInvalid(t *testing.T) {
	tf := associated(ec2Trust)
	tf.Cloud.EKS.Associations[0].TargetRoleArn = aws.String("arn:aws:iam::" + fakeaws.Account + ":role/target")
	out, errOut, _ := tf.Run("doctor", saName, "-n", ns)
	if !strings.Contains(out, "PodIdentityTargetRoleMissing") || !strings.Contains(out, "PodIdentityTrustInvalid") {
		t.Errorf("want both findings:\n%s%s", out, errOut)
	}
}

// TestLinkDryRunShowsSizeRefusal (found by review): --dry-run refuses what the real run refuses for the size of
// the role's inline policies together, and writes nothing.
func TestLinkDryRunShowsSizeRefusal(t *testing.T) {
	tf := seed()
	tf.Cloud.IAM.AddRole("", "shared", ec2Trust)
	tf.Cloud.IAM.PutInline("shared", "big", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+strings.Repeat("b", 10200)+`/*"}]}`)
	_, errOut, code := tf.Run("link", saName, "-n", ns, "--role-name", "shared", "--allow", "s3:GetObject", "--dry-run")
	if code == 0 || !strings.Contains(errOut, "10240") || len(tf.Cloud.Writes()) != 0 {
		t.Errorf("dry run: exit %d, writes %v, %s", code, tf.Cloud.Writes(), errOut)
	}
}
