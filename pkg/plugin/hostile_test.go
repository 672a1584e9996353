package plugin_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// TestLinkRefusesForeignDeny: a Deny that still blocks the subject after the merge is refused before any write.
func TestLinkRefusesForeignDeny(t *testing.T) {
	tf := seed()
	tf.Cloud.IAM.AddProvider(plugintest.HostPath, iamref.DefaultAudience)
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},` +
		`{"Sid":"NoIrsaNs","Effect":"Deny","Principal":{"Federated":"arn:aws:iam::` + fakeaws.Account + `:oidc-provider/` + plugintest.HostPath + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + plugintest.HostPath + `:sub":"system:serviceaccount:` + ns + `:*"}}}]}`
	tf.Cloud.IAM.AddRole("", "guarded", deny)
	_, errOut, code := tf.Run("link", saName, "-n", ns, "--role-name", "guarded")
	if code != 1 || !strings.Contains(errOut, `"NoIrsaNs"`) || !strings.Contains(errOut, "nothing was written") || len(tf.Cloud.Writes()) != 0 {
		t.Errorf("exit %d, writes %v: %s", code, tf.Cloud.Writes(), errOut)
	}
}

// TestLinkNamesHandEditedStatement: our Sid on a statement that is no longer ours is a clear error, not IAM's.
func TestLinkNamesHandEditedStatement(t *testing.T) {
	tf := seed()
	tf.Cloud.IAM.AddProvider(plugintest.HostPath, iamref.DefaultAudience)
	d, _ := trust.Parse(trusting("system:serviceaccount:other:app"))
	var st map[string]any
	_ = json.Unmarshal(d.Statements[0], &st)
	st["Condition"] = map[string]any{"StringLike": map[string]any{plugintest.HostPath + ":sub": "system:serviceaccount:other:*"}}
	b, _ := json.Marshal(st)
	sid := st["Sid"].(string)
	tf.Cloud.IAM.AddRole("", "edited", `{"Version":"2012-10-17","Statement":[`+string(b)+`]}`)
	_, errOut, code := tf.Run("link", saName, "-n", ns, "--role-name", "edited")
	if code != 1 || !strings.Contains(errOut, sid) || !strings.Contains(errOut, "rename its Sid") || strings.Contains(errOut, "must be unique") || len(tf.Cloud.Writes()) != 0 {
		t.Errorf("exit %d, writes %v: %s", code, tf.Cloud.Writes(), errOut)
	}
}

// TestLinkRollbackKeepsProviderInUse: a provider this run created is kept when another role trusts it by then.
func TestLinkRollbackKeepsProviderInUse(t *testing.T) {
	tf := seed()
	tf.Cloud.Fail("PutRolePolicy", fakeaws.AccessDenied("PutRolePolicy"))
	tf.Cloud.IAM.AddRole("", "other", trusting("system:serviceaccount:x:y"))
	_, errOut, code := tf.Run("link", saName, "-n", ns, "--role-name", "mine", "--allow", "s3:GetObject")
	if code != 1 || !strings.Contains(errOut, "kept: OIDC provider") || !strings.Contains(errOut, "role other trusts it") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if tf.Cloud.IAM.ProviderClientIDs(plugintest.HostPath) == nil {
		t.Error("provider in use by role other was deleted")
	}
	if tf.Cloud.IAM.Trust("mine") != "" {
		t.Errorf("created role left: %s", tf.Cloud.IAM.Trust("mine"))
	}
}

func TestPolicyFileBounded(t *testing.T) {
	tf := seed()
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), 20000), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"/dev/zero", big} {
		_, errOut, code := tf.Run("link", saName, "-n", ns, "--policy-file", f)
		if code != 2 || !strings.Contains(errOut, "10240") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d: %q", f, code, errOut)
		}
	}
}

// TestCheckCommandsExitContract: usage errors and failed reads of doctor, audit and test exit 2.
func TestCheckCommandsExitContract(t *testing.T) {
	tf := seed()
	for _, args := range [][]string{
		{"doctor", "a", "b"},
		{"doctor", "--no-such-flag"},
		{"doctor", "-A", saName},
		{"audit", "--no-such-flag"},
		{"test"},
		{"test", saName, "-n", ns, "-o", "bogus"},
	} {
		if _, errOut, code := tf.Run(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errOut)
		}
	}
	if _, _, code := tf.Run("link", "--no-such-flag"); code != 2 {
		t.Errorf("write command usage error: exit %d, want 2", code)
	}
}

// TestErrorLineIsSafe: the error line masks credentials and escapes control characters.
func TestErrorLineIsSafe(t *testing.T) {
	tf := seed()
	_, errOut, _ := tf.Run("unlink", "x\x1b[31mAKIAIOSFODNN7EXAMPLE", "-n", ns)
	if strings.ContainsRune(errOut, 0x1b) || strings.Contains(errOut, "AKIAIOSFODNN7EXAMPLE") {
		t.Errorf("unsafe error line: %q", errOut)
	}
}
