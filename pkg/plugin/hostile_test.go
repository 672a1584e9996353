package plugin_test

import (
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

// TestPolicyFileBounded: --policy-file is read up to a bound (/dev/zero ends), and its size is counted as IAM
// counts it: characters without whitespace outside strings.
func TestPolicyFileBounded(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// resources returns a statement list whose compact form is about n characters.
	resources := func(n int) string {
		return `"Resource":"arn:aws:s3:::` + strings.Repeat("b", n) + `/*"`
	}
	pretty := "{\n    \"Version\": \"2012-10-17\",\n    \"Statement\": [\n" + strings.Repeat(" ", 4000) +
		"{\n        \"Effect\": \"Allow\",\n        \"Action\": \"s3:GetObject\",\n        " + resources(9000) + "\n    }" + strings.Repeat("\n", 4000) + "]\n}\n"
	for _, tc := range []struct {
		name, path string
		code       int
		want       string
	}{
		{"endless", "/dev/zero", 2, "larger than 131072 bytes"},
		{"whitespace beyond the read bound", write("spaces.json", strings.Repeat(" ", 200000)), 2, "larger than 131072 bytes"},
		{"indented: over 10240 bytes, under 10240 characters without whitespace", write("pretty.json", pretty), 0, "inline policy allowing s3:GetObject"},
		{"compact over the limit", write("big.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",`+resources(10300)+`}]}`), 2, "characters without whitespace, over IAM's limit of 10240"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tf := seed()
			out, errOut, code := tf.Run("link", saName, "-n", ns, "--role-name", "files", "--policy-file", tc.path, "--dry-run")
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d (want %d), want %q in:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
			if code != 0 && (strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "10240") || !strings.Contains(errOut, "--attach-policy-arn")) {
				t.Errorf("want one line naming the limit and the fix: %q", errOut)
			}
			if w := tf.Cloud.Writes(); len(w) != 0 {
				t.Errorf("writes: %v", w)
			}
		})
	}
	if n := len(pretty); n <= 10240 {
		t.Fatalf("the indented document is %d bytes: not over the raw limit, the test proves nothing", n)
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
