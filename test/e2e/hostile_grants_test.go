package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdminAndBadPolicyFilesRefusedWithoutWrites: through the real kubectl, a --policy-file granting admin
// (Action "*", iam:*, Allow+NotAction) is refused without --allow-admin, and a policy file IAM would refuse
// (trailing garbage, a Principal, no statement) is refused; each exits 2 having written nothing to AWS.
func TestAdminAndBadPolicyFilesRefusedWithoutWrites(t *testing.T) {
	ns, sa := "hostile-grants", "app"
	createNamespace(t, ns)
	createServiceAccount(t, ns, sa, nil)
	dir := t.TempDir()
	for name, doc := range map[string]string{
		"star":      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		"iam-star":  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`,
		"notaction": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:GetObject","Resource":"*"}]}`,
		"garbage":   `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]} trailing`,
		"principal": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`,
		"empty":     `{"Version":"2012-10-17","Statement":[]}`,
	} {
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		counter.Reset()
		r := irsaCmd(t, "link", sa, "-n", ns, "--role-name", "hostile-grants", "--policy-file", path)
		if r.code != 2 || strings.Count(r.stderr, "error:") != 1 {
			t.Errorf("%s: want exit 2 with one error line: %s", name, r)
		}
		if w := counter.Writes(); len(w) != 0 {
			t.Errorf("%s: refused, yet AWS writes %v", name, w)
		}
		if roleAnnotation(t, ns, sa) != "" {
			t.Errorf("%s: refused, yet the ServiceAccount was annotated", name)
		}
	}
}

// TestCompletionEscapesAnnotations: shell completion through the real kubectl shows a hostile annotation value
// escaped and cut: no ESC, no right-to-left override, nothing near its 100 KB.
func TestCompletionEscapesAnnotations(t *testing.T) {
	ns := "hostile-completion"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "evil", map[string]string{"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/x\x1b]0;pwned\x07\u202e" + strings.Repeat("A", 100_000)})
	r := mustSucceed(t, irsaCmd(t, "__complete", "doctor", "-n", ns, ""))
	if strings.ContainsAny(r.stdout, "\x1b\x07\u202e") || len(r.stdout) > 4096 || !strings.Contains(r.stdout, "evil") {
		t.Errorf("completion output not escaped or not cut (%d bytes): %.300q", len(r.stdout), r.stdout)
	}
}
