package plugin_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// TestUnlinkRemovesOnlyItsStatement: two ServiceAccounts linked to one role with --allow; unlink removes only
// its own statement of the inline policy, unless its Pod Identity association uses the same role (kept, with a
// hint); a failed association lookup removes it and says so.
func TestUnlinkRemovesOnlyItsStatement(t *testing.T) {
	shared := "arn:aws:iam::" + fakeaws.Account + ":role/shared"
	for _, tc := range []struct {
		name        string
		association string // role ARN of irsa-test's association ("" none)
		fail        bool   // ListPodIdentityAssociations denied
		kept        bool   // irsa-test's statement stays
		stderr      string
	}{
		{name: "no association"},
		{name: "association on another role", association: "arn:aws:iam::" + fakeaws.Account + ":role/other"},
		{name: "association on the same role", association: shared, kept: true, stderr: "keeps its statement " + setup.PolicySid(ns, saName)},
		{name: "lookup denied", fail: true, stderr: "could not check serviceaccount " + ns + "/" + saName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tf := plugintest.NewFactory(plugintest.Namespace(ns), plugintest.ServiceAccount(ns, saName, nil), plugintest.ServiceAccount(ns, "worker", nil))
			for sa, action := range map[string]string{saName: "s3:GetObject", "worker": "sqs:SendMessage"} {
				if _, errOut, code := tf.Run("link", sa, "-n", ns, "--role-name", "shared", "--allow", action); code != 0 {
					t.Fatalf("link %s: %s", sa, errOut)
				}
			}
			if tc.association != "" {
				tf.Cloud.EKS.AddAssociation(plugintest.ClusterName, ns, saName, tc.association)
			}
			if tc.fail {
				tf.Cloud.Fail("ListPodIdentityAssociations", &ekstypes.AccessDeniedException{Message: aws.String("not authorized")})
			}
			out, errOut, code := tf.Run("unlink", saName, "-n", ns)
			if code != 0 {
				t.Fatalf("unlink: exit %d: %s", code, errOut)
			}
			doc := tf.Cloud.IAM.Inline("shared", setup.InlinePolicyName)
			mine, theirs := strings.Contains(doc, setup.PolicySid(ns, saName)), strings.Contains(doc, setup.PolicySid(ns, "worker"))
			if mine != tc.kept || !theirs {
				t.Errorf("statements: irsa-test %v (want %v), worker %v (want true): %s", mine, tc.kept, theirs, doc)
			}
			if !tc.kept && !strings.Contains(out, "inline policy: remove statement "+setup.PolicySid(ns, saName)) {
				t.Errorf("stdout:\n%s", out)
			}
			if tc.stderr != "" && !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut)
			}
			if annotation(t, tf, ns, saName) != "" {
				t.Error("annotation left")
			}
		})
	}
}

// TestLinkPolicyTooLargeNamesTheFix: a link whose statement would push the shared inline policy over IAM's
// 10,240 characters is refused before any write, on one line that says what to do.
func TestLinkPolicyTooLargeNamesTheFix(t *testing.T) {
	tf := seed()
	tf.Cloud.IAM.AddProvider(plugintest.HostPath, "sts.amazonaws.com")
	tf.Cloud.IAM.AddRole("/", "shared", ec2Trust)
	tf.Cloud.IAM.PutInline("shared", setup.InlinePolicyName, `{"Version":"2012-10-17","Statement":[{"Sid":"Big","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+strings.Repeat("b", 10100)+`/*"}]}`)
	_, errOut, code := tf.Run("link", saName, "-n", ns, "--role-name", "shared", "--allow", "s3:GetObject,s3:PutObject")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "over IAM's limit of 10240") || !strings.Contains(errOut, "--attach-policy-arn") {
		t.Errorf("exit %d: %q", code, errOut)
	}
	if w := tf.Cloud.Writes(); len(w) != 0 {
		t.Errorf("writes: %v", w)
	}
}
