package plugin_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
)

// TestLinkWarnsAboutPodIdentityAssociation: IRSA link on a ServiceAccount with an EKS Pod Identity association
// succeeds and warns on stderr that the association takes precedence, naming its role and the command that
// deletes it; a lookup that fails says it could not check, and the link still succeeds.
func TestLinkWarnsAboutPodIdentityAssociation(t *testing.T) {
	piRole := "arn:aws:iam::" + fakeaws.Account + ":role/pi-role"
	for _, tc := range []struct {
		name      string
		associate bool
		fail      string // EKS operation that is denied
		json      bool
		want      []string // in stderr
		notWant   string
	}{
		{name: "no association", notWant: "Pod Identity"},
		{name: "association", associate: true, want: []string{
			"warning: serviceaccount " + ns + "/" + saName + " has EKS Pod Identity association a-",
			"with role " + piRole + ", which takes precedence over IRSA",
			"will not use role irsa-role until the association is deleted",
			"kubectl irsa unlink " + saName + " -n " + ns + " --pod-identity",
		}},
		{name: "association, -o json", associate: true, json: true, want: []string{"kubectl irsa unlink " + saName + " -n " + ns + " --pod-identity"}},
		{name: "list denied", fail: "ListPodIdentityAssociations", want: []string{
			"warning: could not check serviceaccount " + ns + "/" + saName + " for an EKS Pod Identity association",
			"AccessDenied",
		}},
		{name: "describe denied", associate: true, fail: "DescribePodIdentityAssociation", want: []string{"could not check", "AccessDenied"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tf := seed()
			if tc.associate {
				tf.Cloud.EKS.AddAssociation(plugintest.ClusterName, ns, saName, piRole)
			}
			if tc.fail != "" {
				tf.Cloud.Fail(tc.fail, &ekstypes.AccessDeniedException{Message: aws.String("User is not authorized to perform: eks:" + tc.fail)})
			}
			args := []string{"link", saName, "-n", ns, "--role-name", "irsa-role", "--allow", "eks:ListClusters"}
			if tc.json {
				args = append(args, "-o", "json")
			}
			out, errOut, code := tf.Run(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if tc.json {
				var res api.Result
				if err := json.Unmarshal([]byte(out), &res); err != nil || !strings.Contains(strings.Join(res.Hints, "\n"), "--pod-identity") {
					t.Errorf("-o json: %v, hints %q", err, res.Hints)
				}
			} else if !strings.Contains(out, "linked "+ns+"/"+saName) {
				t.Errorf("stdout:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if tc.notWant != "" && strings.Contains(errOut, tc.notWant) {
				t.Errorf("stderr has %q:\n%s", tc.notWant, errOut)
			}
			if got := annotation(t, tf, ns, saName); !strings.HasSuffix(got, ":role/irsa-role") {
				t.Errorf("annotation = %q", got)
			}
		})
	}
}
