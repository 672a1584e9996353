package plugin_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdminGrantsNeedAllowAdmin: administrator-equivalent permissions, given by --allow, --policy-file or
// --attach-policy-arn, to link or role create, are a usage error (exit 2, one line naming --allow-admin) with no
// call made; with --allow-admin they are written.
func TestAdminGrantsNeedAllowAdmin(t *testing.T) {
	dir := t.TempDir()
	file := func(name, statement string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(`{"Version":"2012-10-17","Statement":[`+statement+`]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	star := file("star.json", `{"Effect":"Allow","Action":"*","Resource":"*"}`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--allow", "*"}, `allows "*" on every resource`},
		{[]string{"--allow", "*:*"}, `"*:*"`},
		{[]string{"--allow", "s3:GetObject,iam:*"}, `"iam:*"`},
		{[]string{"--allow", "sts:*"}, `"sts:*"`},
		{[]string{"--allow", "organizations:*"}, `"organizations:*"`},
		{[]string{"--allow", "iam:*Policy*"}, `"iam:*Policy*"`},
		{[]string{"--allow", "iam:PassRole"}, `"iam:PassRole"`},
		{[]string{"--policy-file", star}, "--policy-file " + star + " grants administrator-equivalent access"},
		{[]string{"--policy-file", file("star-colon.json", `{"Effect":"Allow","Action":"*:*","Resource":"*"}`)}, `"*:*"`},
		{[]string{"--policy-file", file("notaction.json", `{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`)}, "every action except iam:*"},
		{[]string{"--attach-policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess"}, "AdministratorAccess is an AWS managed administrator policy"},
	} {
		for _, cmd := range [][]string{{"link", saName, "-n", ns}, {"role", "create", "r", "--service-account", ns + "/" + saName}} {
			tf := seed()
			args := append(append([]string{}, cmd...), tc.args...)
			out, errOut, code := tf.Run(args...)
			if code != 2 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "pass --allow-admin") || strings.Count(errOut, "\n") != 1 || out != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", args, code, out, errOut, tc.want)
			}
			if calls := tf.Cloud.Calls(); len(calls) != 0 {
				t.Errorf("%v: AWS calls %v", args, calls)
			}
		}
	}

	tf := seed()
	_, errOut, code := tf.Run("link", saName, "-n", ns, "--role-name", "admin", "--policy-file", star, "--allow-admin")
	if code != 0 || !strings.Contains(tf.Cloud.IAM.Inline("admin", "kubectl-irsa"), `"Action":"*"`) {
		t.Errorf("--allow-admin: exit %d, inline %q: %s", code, tf.Cloud.IAM.Inline("admin", "kubectl-irsa"), errOut)
	}
	// Read-only IAM and every S3 action are not administrator access.
	tf = seed()
	if _, errOut, code := tf.Run("link", saName, "-n", ns, "--allow", "iam:Get*,iam:List*,s3:*", "--dry-run"); code != 0 {
		t.Errorf("read-only IAM: exit %d: %s", code, errOut)
	}
}

// TestPolicyFileValidatedAsIAM: a policy file IAM would refuse (trailing data, a Principal, no statement, a bad
// Version, Effect, action or Resource, a repeated Sid) is refused before any call, every problem on one line
// with the file name, exit 2.
func TestPolicyFileValidatedAsIAM(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		doc  string
		want []string
	}{
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]} trailing`, []string{"data after the end of the JSON document"}},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`, []string{"statement 1: Principal is not allowed"}},
		{`{"Version":"2012-10-17","Statement":[]}`, []string{"Statement is empty"}},
		{`{"Statement":[{"Sid":"A","Effect":"allow","Action":"GetObject"},{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
			[]string{"Version is missing", `statement 1: Effect "allow"`, "statement 1: Resource (or NotResource) is missing", `statement 1: Action "GetObject"`, `statement 2: Sid "A" is already used`}},
	} {
		path := filepath.Join(dir, "p.json")
		if err := os.WriteFile(path, []byte(tc.doc), 0o600); err != nil {
			t.Fatal(err)
		}
		tf := seed()
		_, errOut, code := tf.Run("link", saName, "-n", ns, "--policy-file", path)
		if code != 2 || !strings.Contains(errOut, "--policy-file "+path) || strings.Count(errOut, "\n") != 1 || len(tf.Cloud.Calls()) != 0 {
			t.Errorf("%s: exit %d, calls %v, stderr %q", tc.doc, code, tf.Cloud.Calls(), errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr %q lacks %q", tc.doc, errOut, w)
			}
		}
	}
}
