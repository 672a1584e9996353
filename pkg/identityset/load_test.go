package identityset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// doc is a valid document whose roles are given as YAML (indented under spec.roles).
func doc(name, roles string) string {
	return "apiVersion: irsa.kubectl-irsa.io/v1alpha1\nkind: IdentitySet\nmetadata:\n  name: " + name + "\nspec:\n  roles:\n" + roles
}

// problemsOf loads files written to a temporary directory and returns the problems (failing when Load accepts).
func problemsOf(t *testing.T, files map[string]string, order ...string) Problems {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for _, name := range order {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(files[name]), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	docs, err := Load(paths, nil)
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load = %d documents, %v; want *Problems", len(docs), err)
	}
	if docs != nil {
		t.Errorf("Load returned documents with problems")
	}
	for i := range *ps {
		(*ps)[i].Source.File = filepath.Base((*ps)[i].Source.File)
	}
	return *ps
}

func TestLoadGood(t *testing.T) {
	docs, err := Load([]string{"testdata/good.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		t.Fatalf("got %d documents, want 2 (the empty one skipped)", len(docs))
	}
	if got := docs[1].Source; got != (Source{File: "testdata/good.yaml", Index: 2}) {
		t.Errorf("second document's source = %+v, want index 2 (the empty document counts)", got)
	}
	r := docs[0].Set.Spec.Roles[1]
	if got := r.Policy[0].Action; !slices.Equal(got, StringList{"s3:GetObject"}) {
		t.Errorf("a one-string Action = %q", got)
	}
	if got := r.Policy[0].Condition["Bool"]; got == nil {
		t.Errorf("Condition lost: %+v", r.Policy[0])
	}
	shared := docs[1].Set.Spec.Roles[0]
	if shared.PodIdentity == nil || !shared.PodIdentity.DisableSessionTags || shared.PodIdentity.TargetRoleArn == "" {
		t.Errorf("podIdentity = %+v", shared.PodIdentity)
	}
	if !docs[1].Set.Spec.Roles[1].AllowAdmin {
		t.Errorf("allowAdmin lost")
	}
}

func TestLoadProblems(t *testing.T) {
	const sa = "      serviceAccounts: [app/api]\n"
	tests := []struct {
		name, file   string
		field, msg   string
		wantDocument int
	}{
		{"unknown top field", doc("s", "    - name: r\n"+sa) + "status: {}\n", "status", "unknown field", 0},
		{"misspelt role field", doc("s", "    - name: r\n"+sa+"      serviceAcount: [x/y]\n"), "spec.roles[0].serviceAcount", "unknown field", 0},
		{"case hint", doc("s", "    - name: r\n"+sa+"      Allow: [s3:GetObject]\n"), "spec.roles[0].Allow", "did you mean allow?", 0},
		{"number for string", doc("s", "    - name: 12\n"+sa), "spec.roles[0].name", "want a string, got the number 12: quote it", 0},
		{"string for list", doc("s", "    - name: r\n      serviceAccounts: app/api\n"), "spec.roles[0].serviceAccounts", "want a list", 0},
		{"string for bool", doc("s", "    - name: r\n"+sa+"      allowAdmin: \"yes\"\n"), "spec.roles[0].allowAdmin", "want true or false", 0},
		{"duplicate key", doc("s", "    - name: r\n      name: q\n"+sa), "spec.roles[0].name", "given twice", 0},
		{"not an object", "- a\n- b\n", "", "want an object", 0},
		{"bad yaml", "apiVersion: [\n", "", "not valid YAML", 0},
		{"second document", doc("s", "    - name: r\n"+sa) + "---\n" + doc("t", "    - name: q\n      serviceAccounts: [app/x]\n      mechanism: lambda\n"), "spec.roles[0].mechanism", `"lambda" is not a mechanism`, 1},
		{"apiVersion", strings.Replace(doc("s", "    - name: r\n"+sa), "v1alpha1", "v1", 1), "apiVersion", "not one this version reads", 0},
		{"apiVersion missing", strings.Replace(doc("s", "    - name: r\n"+sa), "apiVersion: irsa.kubectl-irsa.io/v1alpha1\n", "", 1), "apiVersion", "missing", 0},
		{"kind", strings.Replace(doc("s", "    - name: r\n"+sa), "kind: IdentitySet", "kind: RoleSet", 1), "kind", `"RoleSet" is not IdentitySet`, 0},
		{"set name", doc("Pay_ments", "    - name: r\n"+sa), "metadata.name", "not a DNS-1123 label", 0},
		{"set name missing", doc(`""`, "    - name: r\n"+sa), "metadata.name", "missing", 0},
		{"roles missing", strings.TrimSuffix(doc("s", ""), "  roles:\n") + "  {}\n", "spec.roles", "missing", 0},
		{"neither name nor arn", doc("s", "    - path: /k8s/\n"+sa), "spec.roles[0]", "set name", 0},
		{"name and arn", doc("s", "    - name: r\n      arn: arn:aws:iam::123456789012:role/r\n"+sa), "spec.roles[0]", "not both", 0},
		{"role name", doc("s", "    - name: \"r r\"\n"+sa), "spec.roles[0].name", "invalid IAM role name", 0},
		{"role names differing in case", doc("s", "    - name: CaseRole\n"+sa+"    - name: caserole\n      serviceAccounts: [app/other]\n"), "spec.roles[1].name", "case-insensitive", 0},
		{"role name too long", doc("s", "    - name: "+strings.Repeat("r", 65)+"\n"+sa), "spec.roles[0].name", "invalid IAM role name", 0},
		{"role ARN", doc("s", "    - arn: arn:aws:iam::123456789012:user/bob\n"+sa), "spec.roles[0].arn", "the resource must start with role/", 0},
		{"role ARN account", doc("s", "    - arn: arn:aws:iam::12345:role/r\n"+sa), "spec.roles[0].arn", "12 digits", 0},
		{"path", doc("s", "    - name: r\n      path: k8s\n"+sa), "spec.roles[0].path", "not an IAM path", 0},
		{"path with arn", doc("s", "    - arn: arn:aws:iam::123456789012:role/r\n      path: /k8s/\n"+sa), "spec.roles[0].path", "an ARN carries", 0},
		{"mechanism", doc("s", "    - name: r\n      mechanism: IRSA\n"+sa), "spec.roles[0].mechanism", "is not a mechanism", 0},
		{"no service accounts", doc("s", "    - name: r\n      serviceAccounts: []\n"), "spec.roles[0].serviceAccounts", "at least one", 0},
		{"service account shape", doc("s", "    - name: r\n      serviceAccounts: [api]\n"), "spec.roles[0].serviceAccounts[0]", "not NAMESPACE/NAME", 0},
		{"service account namespace", doc("s", "    - name: r\n      serviceAccounts: [App/api]\n"), "spec.roles[0].serviceAccounts[0]", `namespace "App"`, 0},
		{"service account name", doc("s", "    - name: r\n      serviceAccounts: [app/Api_1]\n"), "spec.roles[0].serviceAccounts[0]", `name "Api_1"`, 0},
		{"service account twice in an entry", doc("s", "    - name: r\n      serviceAccounts: [app/api, app/api]\n"), "spec.roles[0].serviceAccounts[1]", "already listed at", 0},
		{"service account in two documents", doc("s", "    - name: r\n"+sa) + "---\n" + doc("t", "    - name: q\n"+sa), "spec.roles[0].serviceAccounts[0]", "document 1 spec.roles[0].serviceAccounts[0]", 1},
		{"action shape", doc("s", "    - name: r\n"+sa+"      allow: [s3:GetObject, s3GetObject]\n"), "spec.roles[0].allow[1]", `"s3GetObject" is not written service:action`, 0},
		{"action service case", doc("s", "    - name: r\n"+sa+"      allow: [S3:GetObject]\n"), "spec.roles[0].allow[0]", "write the service in lower case: s3:GetObject", 0},
		{"empty action", doc("s", "    - name: r\n"+sa+"      allow: [\"\"]\n"), "spec.roles[0].allow[0]", "not written service:action", 0},
		{"admin allow", doc("s", "    - name: r\n"+sa+"      allow: [s3:GetObject, \"iam:Put*\"]\n"), "spec.roles[0].allow", "administrator-equivalent", 0},
		{"admin star", doc("s", "    - name: r\n"+sa+"      allow: [\"*\"]\n"), "spec.roles[0].allow", "set allowAdmin: true", 0},
		{"allow and policy", doc("s", "    - name: r\n"+sa+"      allow: [s3:GetObject]\n      policy: [{Effect: Allow, Action: s3:GetObject, Resource: \"*\"}]\n"), "spec.roles[0]", "not both", 0},
		{"policy effect", doc("s", "    - name: r\n"+sa+"      policy: [{Effect: Permit, Action: s3:GetObject, Resource: \"*\"}]\n"), "spec.roles[0].policy[0]", "must be Allow or Deny", 0},
		{"policy no resource", doc("s", "    - name: r\n"+sa+"      policy: [{Effect: Allow, Action: s3:GetObject}]\n"), "spec.roles[0].policy[0]", "Resource (or NotResource) is missing", 0},
		{"policy action and notaction", doc("s", "    - name: r\n"+sa+"      policy: [{Effect: Allow, Action: s3:GetObject, NotAction: s3:PutObject, Resource: \"*\"}]\n"), "spec.roles[0].policy[0]", "use Action or NotAction, not both", 0},
		{"policy action shape", doc("s", "    - name: r\n"+sa+"      policy: [{Effect: Allow, Action: [s3:GetObject, getobject], Resource: \"*\"}]\n"), "spec.roles[0].policy[0]", `"getobject" is not written service:action`, 0},
		{"policy principal", doc("s", "    - name: r\n"+sa+"      policy: [{Effect: Allow, Principal: \"*\", Action: s3:GetObject, Resource: \"*\"}]\n"), "spec.roles[0].policy[0].Principal", "unknown field", 0},
		{"policy sid", doc("s", "    - name: r\n"+sa+"      policy: [{Sid: Mine, Effect: Allow, Action: s3:GetObject, Resource: \"*\"}]\n"), "spec.roles[0].policy[0].Sid", "remove it", 0},
		{"policy condition shape", doc("s", "    - name: r\n"+sa+"      policy: [{Effect: Allow, Action: s3:GetObject, Resource: \"*\", Condition: {Bool: true}}]\n"), "spec.roles[0].policy[0].Condition.Bool", "want an object of condition keys", 0},
		{"admin policy NotAction", doc("s", "    - name: r\n"+sa+"      policy:\n        - {Effect: Allow, Action: s3:GetObject, Resource: \"*\"}\n        - {Effect: Allow, NotAction: s3:DeleteBucket, Resource: \"*\"}\n"), "spec.roles[0].policy[1]", "Allow with NotAction", 0},
		{"admin policy passrole", doc("s", "    - name: r\n"+sa+"      policy: [{Effect: Allow, Action: iam:PassRole, Resource: \"arn:aws:iam::*:role/*\"}]\n"), "spec.roles[0].policy[0]", "administrator-equivalent", 0},
		{"managed policy ARN", doc("s", "    - name: r\n"+sa+"      managedPolicies: [arn:aws:iam::aws:role/x]\n"), "spec.roles[0].managedPolicies[0]", "invalid policy ARN", 0},
		{"managed policy twice", doc("s", "    - name: r\n"+sa+"      managedPolicies: [arn:aws:iam::aws:policy/A, arn:aws:iam::aws:policy/A]\n"), "spec.roles[0].managedPolicies[1]", "listed twice", 0},
		{"admin managed policy", doc("s", "    - name: r\n"+sa+"      managedPolicies: [arn:aws:iam::aws:policy/PowerUserAccess]\n"), "spec.roles[0].managedPolicies[0]", "AWS managed administrator policy", 0},
		{"podIdentity with irsa", doc("s", "    - name: r\n"+sa+"      podIdentity: {disableSessionTags: true}\n"), "spec.roles[0].podIdentity", "needs mechanism pod-identity or both", 0},
		{"podIdentity target", doc("s", "    - name: r\n      mechanism: pod-identity\n"+sa+"      podIdentity: {targetRoleArn: nope}\n"), "spec.roles[0].podIdentity.targetRoleArn", "invalid role ARN", 0},
		{"same role, other mechanism", doc("s", "    - name: r\n"+sa+"    - name: r\n      mechanism: both\n      serviceAccounts: [app/b]\n"), "spec.roles[1]", "mechanism irsa, not both", 0},
		{"same role, other path", doc("s", "    - name: r\n"+sa+"    - name: r\n      path: /k8s/\n      serviceAccounts: [app/b]\n"), "spec.roles[1]", "path /, not /k8s/", 0},
		{"same ARN, other managed policies", doc("s", "    - arn: arn:aws:iam::123456789012:role/r\n"+sa+"    - arn: arn:aws:iam::123456789012:role/r\n      managedPolicies: [arn:aws:iam::aws:policy/A]\n      serviceAccounts: [app/b]\n"), "spec.roles[1]", "other managedPolicies", 0},
		{"same role across documents of one set", doc("s", "    - name: r\n"+sa) + "---\n" + doc("s", "    - name: r\n      mechanism: pod-identity\n      serviceAccounts: [app/b]\n"), "spec.roles[0]", "also at", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := problemsOf(t, map[string]string{"f.yaml": tt.file}, "f.yaml")
			i := slices.IndexFunc(ps, func(p Problem) bool { return p.Field == tt.field && strings.Contains(p.Message, tt.msg) })
			if i < 0 {
				t.Fatalf("no problem at %q saying %q; got:\n%s", tt.field, tt.msg, ps.Error())
			}
			if ps[i].Source.Index != tt.wantDocument {
				t.Errorf("problem in document %d, want %d", ps[i].Source.Index, tt.wantDocument)
			}
		})
	}
}

// TestLoadSameRoleAgreeing: entries of one role that agree are one role with several ServiceAccounts and
// permissions; another set may use the same role differently (it owns only its own subjects and statements).
func TestLoadSameRoleAgreeing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.yaml")
	content := doc("s", "    - name: r\n      path: /k8s/\n      serviceAccounts: [app/a]\n      allow: [s3:GetObject]\n      managedPolicies: [arn:aws:iam::aws:policy/A, arn:aws:iam::aws:policy/B]\n"+
		"    - name: r\n      path: /k8s/\n      serviceAccounts: [app/b]\n      managedPolicies: [arn:aws:iam::aws:policy/B, arn:aws:iam::aws:policy/A]\n") +
		"---\n" + doc("t", "    - name: r\n      mechanism: both\n      serviceAccounts: [app/c]\n")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load([]string{file}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestLoadEveryProblemAtOnce: one run reports every problem of every file and document, in file and document order.
func TestLoadEveryProblemAtOnce(t *testing.T) {
	ps := problemsOf(t, map[string]string{
		"a.yaml": doc("a", "    - name: \"r r\"\n      serviceAccounts: [app/api]\n      extra: 1\n") + "---\n" + doc("b", "    - name: q\n      serviceAccounts: [app/x]\n      allow: [nope]\n"),
		"b.yaml": doc("c", "    - name: z\n      mechanism: lambda\n      serviceAccounts: [app/api, bad]\n"),
	}, "a.yaml", "b.yaml")
	want := []string{
		"a.yaml: document 1: spec.roles[0].extra: unknown field (line 9)",
		`a.yaml: document 1: spec.roles[0].name: invalid IAM role name "r r"`,
		`a.yaml: document 2: spec.roles[0].allow[0]: Action "nope" is not written service:action`,
		`b.yaml: document 1: spec.roles[0].mechanism: "lambda" is not a mechanism`,
		"b.yaml: document 1: spec.roles[0].serviceAccounts[0]: ServiceAccount app/api is already listed at",
		`b.yaml: document 1: spec.roles[0].serviceAccounts[1]: "bad" is not NAMESPACE/NAME`,
	}
	lines := strings.Split(ps.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(lines), len(want), ps.Error())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want it to start %q", i, lines[i], w)
		}
	}
}

// TestLoadNoDoubleReport: a field of the wrong type is one problem, not also the validation problem of its
// missing value.
func TestLoadNoDoubleReport(t *testing.T) {
	ps := problemsOf(t, map[string]string{"f.yaml": doc("s", "    - name: 12\n      serviceAccounts: [app/a]\n")}, "f.yaml")
	if len(ps) != 1 {
		t.Errorf("got %d problems, want 1:\n%s", len(ps), ps.Error())
	}
}

func TestLoadDirectoryAndStdin(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"b.yml":      doc("b", "    - name: r\n      serviceAccounts: [app/b]\n"),
		"a.yaml":     doc("a", "    - name: r\n      serviceAccounts: [app/a]\n"),
		"notes.txt":  "not yaml: [",
		"sub/c.yaml": "not read: [",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stdin := strings.NewReader(doc("c", "    - name: r\n      serviceAccounts: [app/c]\n"))
	docs, err := Load([]string{dir, "-"}, stdin)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, filepath.Base(d.Source.File)+":"+d.Set.Metadata.Name)
	}
	if want := []string{"a.yaml:a", "b.yml:b", StdinName + ":c"}; !slices.Equal(got, want) {
		t.Errorf("documents = %q, want %q", got, want)
	}
}

func TestLoadFileProblems(t *testing.T) {
	empty := t.TempDir()
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load([]string{filepath.Join(empty, "missing.yaml"), empty, big, "-"}, nil)
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err = %v", err)
	}
	msg := ps.Error()
	for _, want := range []string{"missing.yaml: cannot read the file: no such file or directory", "holds no *.yaml or *.yml file", "big.yaml: larger than 8 MiB", StdinName + ": no standard input"} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
	if _, err := Load(nil, nil); err == nil {
		t.Errorf("Load of no path succeeded")
	}
}

// TestLoadAliasBomb: a document that expands through aliases to more values than any identity file has is refused
// without being expanded, and its flood of problems is cut.
func TestLoadAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x: &l [")
	for i := range 1000 {
		fmt.Fprintf(&b, "app/sa%d, ", i)
	}
	b.WriteString("]\nr: &r {name: r, serviceAccounts: *l}\n")
	roles := "    - *r\n"
	ps := problemsOf(t, map[string]string{"f.yaml": b.String() + doc("s", strings.Repeat(roles, 300))}, "f.yaml")
	if !strings.Contains(ps.Error(), "expands to more than 100000 values") {
		t.Errorf("no alias problem:\n%s", ps.Error())
	}
	if len(ps) != MaxProblems+1 || !strings.Contains(ps[MaxProblems].Message, "more problems not shown") {
		t.Errorf("got %d problems, want %d and a count of the rest", len(ps), MaxProblems+1)
	}
}
