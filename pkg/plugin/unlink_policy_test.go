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
