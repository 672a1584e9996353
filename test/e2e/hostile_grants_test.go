package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
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

// TestAuditFindsAdminGrants: audit names, as high, a role used by a ServiceAccount whose inline policy grants
// "*" or Allow with NotAction, and not a role granting one action; it writes nothing. (moto loads no AWS managed
// policies, so AdministratorAccess attached is covered by the unit tests of pkg/doctor only.)
func TestAuditFindsAdminGrants(t *testing.T) {
	ns := "hostile-audit-admin"
	createNamespace(t, ns)
	hp := provider().HostPath
	roles := map[string]func(name string){
		"audit-admin-inline": func(name string) {
			putInline(t, name, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
		},
		"audit-admin-notaction": func(name string) {
			putInline(t, name, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:GetObject","Resource":"*"}]}`)
		},
		"audit-admin-none": func(name string) {
			putInline(t, name, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
		},
	}
	for name, grant := range roles {
		sa := strings.TrimPrefix(name, "audit-admin-")
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider().ARN + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` +
			hp + `:sub":"system:serviceaccount:` + ns + `:` + sa + `","` + hp + `:aud":"sts.amazonaws.com"}}}]}`
		arn := createRole(t, name, doc)
		grant(name)
		createServiceAccount(t, ns, sa, map[string]string{iamref.RoleARNAnnotation: arn})
	}
	counter.Reset()
	r := irsaCmd(t, "audit", "-n", ns, "-o", "json")
	if r.code != 1 {
		t.Errorf("exit %d, want 1 (high findings): %s", r.code, r)
	}
	if w := counter.Writes(); len(w) != 0 {
		t.Errorf("audit wrote %v", w)
	}
	var rep inspect.AuditReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v: %s", err, r)
	}
	admin := map[string]string{}
	for _, f := range rep.Findings {
		if f.ID == "AdminPermissions" {
			admin[f.Target] = string(f.Severity)
		}
	}
	for _, want := range []string{"role/audit-admin-inline", "role/audit-admin-notaction"} {
		if admin[want] != "high" {
			t.Errorf("%s: AdminPermissions %q, want high; findings %+v", want, admin[want], rep.Findings)
		}
	}
	if _, ok := admin["role/audit-admin-none"]; ok {
		t.Errorf("a role granting s3:GetObject reported administrator-equivalent: %+v", rep.Findings)
	}
}

// putInline puts an inline policy named "app" on role.
func putInline(t *testing.T, role, doc string) {
	t.Helper()
	if _, err := iamClient.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("app"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
}
