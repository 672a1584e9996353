package plugin_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
)

// TestRetargetUsage: the scope and the contexts are checked before any client is made (exit 2, one line).
func TestRetargetUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no scope", []string{"--from-context", "blue", "--to-context", "green"}, "-A"},
		{"roles and -A", []string{"--from-context", "blue", "--to-context", "green", "-A", "app"}, "not both"},
		{"same context", []string{"--from-context", "blue", "--to-context", "blue", "-A"}, "same context"},
		{"bad role name", []string{"--from-context", "blue", "--to-context", "green", "bad/name"}, "bad/name"},
		{"bad role ARN", []string{"--from-context", "blue", "--to-context", "green", "arn:aws:iam::1:role/x"}, "role ARN"},
		{"no contexts", []string{"-A"}, "from-context"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tf := plugintest.NewFactory()
			_, errOut, code := tf.Run(append([]string{"retarget"}, tc.args...)...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q: want 2 and %q", code, errOut, tc.want)
			}
			if w := tf.Cloud.Writes(); len(w) != 0 {
				t.Errorf("wrote %v", w)
			}
		})
	}
}

// TestRetargetTwoContexts drives retarget through two fake contexts: the plan and each test on the new context in
// the human form, the typed result with -o json, then --remove-old.
func TestRetargetTwoContexts(t *testing.T) {
	const greenIssuer = "https://oidc.eks.us-east-1.amazonaws.com/id/GREENGREEN"
	blue := plugintest.NewFactory(plugintest.Namespace("shop"), plugintest.ServiceAccount("shop", "cart", nil))
	roleARN := "arn:aws:iam::" + fakeaws.Account + ":role/app"
	green := plugintest.NewFactory(plugintest.Namespace("shop"),
		plugintest.ServiceAccount("shop", "cart", map[string]string{iamref.RoleARNAnnotation: roleARN}))
	green.Cluster = cluster.Ref{Name: "green", Region: plugintest.Region}
	green.Cloud.EKS.Clusters["green"] = greenIssuer
	green.TokenIssuer = greenIssuer
	green.Cloud.IAM = blue.Cloud.IAM // one account, two clusters
	blue.Contexts = map[string]*plugintest.Factory{"blue": blue, "green": green}

	if _, errOut, code := blue.Run("link", "cart", "-n", "shop", "--role-name", "app"); code != 0 {
		t.Fatalf("link: %s", errOut)
	}
	out, errOut, code := blue.Run("retarget", "--from-context", "blue", "--to-context", "green", "-A")
	t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	greenHost := strings.TrimPrefix(greenIssuer, "https://")
	for _, want := range []string{"+ oidc-provider/" + greenHost, "~ role/app: trust: add system:serviceaccount:shop:cart through " + greenHost, "test shop/cart on green: pass"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}

	out, errOut, code = blue.Run("retarget", "--from-context", "blue", "--to-context", "green", "app", "--remove-old", "-o", "json")
	var res api.RetargetResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
		t.Fatalf("exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	if res.Kind != "RetargetResult" || len(res.Roles) != 1 || !slices.Equal(res.Roles[0].Removed, []string{"system:serviceaccount:shop:cart"}) ||
		len(res.Roles[0].Tests) != 1 || res.Roles[0].Tests[0].Verdict != "pass" {
		t.Errorf("result: %+v", res)
	}
	if trustDoc := blue.Cloud.IAM.Trust("app"); strings.Contains(trustDoc, plugintest.HostPath) || !strings.Contains(trustDoc, greenHost) {
		t.Errorf("trust after --remove-old:\n%s", trustDoc)
	}
}
