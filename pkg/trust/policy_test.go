package trust

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
)

var (
	issuer   = "https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123"
	provider = NewProvider("aws", "123456789012", issuer)
	other    = NewProvider("aws", "123456789012", "https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER00000")
	subA     = Subject("irsa-sample-ns", "irsa-test")
	subB     = Subject("team-b", "worker")
)

func TestNewProvider(t *testing.T) {
	want := "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123"
	if provider.ARN != want {
		t.Errorf("ARN = %s, want %s", provider.ARN, want)
	}
	if provider.HostPath != "oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123" {
		t.Errorf("HostPath = %s", provider.HostPath)
	}
	if got := HostPath(issuer + "/"); got != provider.HostPath {
		t.Errorf("HostPath with trailing slash = %s", got)
	}
}

// TestAddSubjectsExactStatement checks the statement against the IRSA contract field by field.
func TestAddSubjectsExactStatement(t *testing.T) {
	d := New()
	if added := d.AddSubjects(provider, DefaultAudience, subA); !slices.Equal(added, []string{subA}) {
		t.Fatalf("added = %v", added)
	}
	var doc struct {
		Version   string
		Statement []struct {
			Sid       string
			Effect    string
			Principal map[string]string
			Action    string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(d.String()), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2012-10-17" || len(doc.Statement) != 1 {
		t.Fatalf("doc = %s", d)
	}
	st := doc.Statement[0]
	if st.Effect != "Allow" || st.Action != "sts:AssumeRoleWithWebIdentity" || st.Principal["Federated"] != provider.ARN || len(st.Principal) != 1 {
		t.Errorf("statement = %+v", st)
	}
	want := map[string]map[string]string{"StringEquals": {
		provider.HostPath + ":sub": "system:serviceaccount:irsa-sample-ns:irsa-test",
		provider.HostPath + ":aud": "sts.amazonaws.com",
	}}
	if got, _ := json.Marshal(st.Condition); string(got) != mustJSON(want) {
		t.Errorf("condition = %s, want %s", got, mustJSON(want))
	}
	if !strings.HasPrefix(st.Sid, "KubectlIrsa") {
		t.Errorf("sid = %q", st.Sid)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

const foreign = `{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`

func TestAddSubjects(t *testing.T) {
	tests := []struct {
		name      string
		start     string
		provider  Provider
		audience  string
		subjects  []string
		wantAdded []string
		// wantStatements is the number of statements after the merge.
		wantStatements int
		wantSubs       []string
	}{
		{name: "new policy", start: `{"Version":"2012-10-17","Statement":[]}`, provider: provider, audience: DefaultAudience,
			subjects: []string{subA}, wantAdded: []string{subA}, wantStatements: 1, wantSubs: []string{subA}},
		{name: "second subject joins our statement", provider: provider, audience: DefaultAudience,
			start:    New().with(provider, DefaultAudience, subA),
			subjects: []string{subB}, wantAdded: []string{subB}, wantStatements: 1, wantSubs: []string{subA, subB}},
		{name: "already granted: no change", provider: provider, audience: DefaultAudience,
			start:    New().with(provider, DefaultAudience, subA),
			subjects: []string{subA}, wantAdded: nil, wantStatements: 1, wantSubs: []string{subA}},
		{name: "foreign statement kept, ours appended",
			start:    `{"Version":"2012-10-17","Statement":[` + foreign + `]}`,
			provider: provider, audience: DefaultAudience, subjects: []string{subA}, wantAdded: []string{subA}, wantStatements: 2, wantSubs: []string{subA}},
		{name: "granted by a foreign wildcard statement: no write",
			start: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"` + provider.ARN + `"},"Action":["sts:AssumeRoleWithWebIdentity"],` +
				`"Condition":{"StringLike":{"` + provider.HostPath + `:sub":"system:serviceaccount:irsa-sample-ns:*"}}}}`,
			provider: provider, audience: DefaultAudience, subjects: []string{subA}, wantAdded: nil, wantStatements: 1,
			wantSubs: []string{"system:serviceaccount:irsa-sample-ns:*"}},
		{name: "foreign eksctl-shaped statement is not modified",
			start: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider.ARN + `"},"Action":"sts:AssumeRoleWithWebIdentity",` +
				`"Condition":{"StringEquals":{"` + provider.HostPath + `:sub":"` + subB + `","` + provider.HostPath + `:aud":"sts.amazonaws.com"}}}]}`,
			provider: provider, audience: DefaultAudience, subjects: []string{subA}, wantAdded: []string{subA}, wantStatements: 2,
			wantSubs: []string{subA, subB}},
		{name: "second cluster gets its own statement", provider: other, audience: DefaultAudience,
			start:    New().with(provider, DefaultAudience, subA),
			subjects: []string{subA}, wantAdded: []string{subA}, wantStatements: 2, wantSubs: []string{subA}},
		{name: "custom audience gets its own statement", provider: provider, audience: "my-aud",
			start:    New().with(provider, DefaultAudience, subA),
			subjects: []string{subA}, wantAdded: []string{subA}, wantStatements: 2, wantSubs: []string{subA}},
		{name: "duplicate subjects in one call", provider: provider, audience: DefaultAudience, start: `{"Statement":[]}`,
			subjects: []string{subA, subA, subB}, wantAdded: []string{subA, subB}, wantStatements: 1, wantSubs: []string{subA, subB}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.start)
			if err != nil {
				t.Fatal(err)
			}
			before := d.Clone()
			added := d.AddSubjects(tt.provider, tt.audience, tt.subjects...)
			if !slices.Equal(added, tt.wantAdded) {
				t.Errorf("added = %v, want %v", added, tt.wantAdded)
			}
			if len(d.Statements) != tt.wantStatements {
				t.Errorf("statements = %d, want %d: %s", len(d.Statements), tt.wantStatements, d)
			}
			if got := d.Subjects(tt.provider); !slices.Equal(got, tt.wantSubs) {
				t.Errorf("subjects = %v, want %v", got, tt.wantSubs)
			}
			if len(added) == 0 && !d.Equal(before) {
				t.Errorf("nothing added but the document changed:\n%s\n%s", before, d)
			}
			assertForeignKept(t, before, d)
			for _, s := range tt.subjects {
				if !d.Evaluate(Claims{tt.provider.ARN, tt.provider.HostPath, s, tt.audience}).Allowed {
					t.Errorf("%s not admitted after merge", s)
				}
			}
		})
	}
}

// with returns the JSON of d after adding subjects, for table set-up.
func (d *Document) with(p Provider, aud string, subs ...string) string {
	d.AddSubjects(p, aud, subs...)
	return d.String()
}

// assertForeignKept fails when a statement of before that is not ours is missing or altered in after.
func assertForeignKept(t *testing.T, before, after *Document) {
	t.Helper()
	for _, raw := range before.Statements {
		st, _ := ParseStatement(raw)
		if strings.HasPrefix(st.Sid, sidPrefix) {
			continue
		}
		if !slices.ContainsFunc(after.Statements, func(r json.RawMessage) bool { return string(r) == string(raw) }) {
			t.Errorf("foreign statement dropped or changed: %s", raw)
		}
	}
}

func TestRemoveSubject(t *testing.T) {
	d := New()
	d.AddSubjects(provider, DefaultAudience, subA, subB)
	removed, still := d.RemoveSubject(provider, DefaultAudience, subA)
	if !removed || still {
		t.Fatalf("removed=%v still=%v", removed, still)
	}
	if got := d.Subjects(provider); !slices.Equal(got, []string{subB}) {
		t.Errorf("subjects = %v", got)
	}
	removed, _ = d.RemoveSubject(provider, DefaultAudience, subB)
	if !removed || len(d.Statements) != 0 {
		t.Errorf("last subject: removed=%v statements=%d", removed, len(d.Statements))
	}

	// A subject granted by a foreign statement is reported, and the statement left alone.
	f, err := Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider.ARN +
		`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + provider.HostPath + `:sub":"` + subA + `"}}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	before := f.Clone()
	removed, still = f.RemoveSubject(provider, DefaultAudience, subA)
	if removed || !still || !f.Equal(before) {
		t.Errorf("foreign: removed=%v still=%v changed=%v", removed, still, !f.Equal(before))
	}
}

func TestParse(t *testing.T) {
	doc := New().with(provider, DefaultAudience, subA)
	encoded := url.QueryEscape(doc)
	d, err := Parse(encoded)
	if err != nil {
		t.Fatalf("URL-encoded: %v", err)
	}
	if d.String() != doc {
		t.Errorf("round trip:\n%s\n%s", d, doc)
	}
	for _, bad := range []string{``, `{`, `{"Statement":"x"}`, `{"Statement":[{"Effect":"Maybe","Action":"a"}]}`, `{"Statement":[{"Effect":"Allow"}]}`, `%zz`} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	single, err := Parse(`{"Version":"2012-10-17","Statement":` + foreign + `}`)
	if err != nil || len(single.Statements) != 1 {
		t.Errorf("single statement object: %v %v", single, err)
	}
}

func TestSize(t *testing.T) {
	d, err := Parse("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [ " + foreign + " ]\n}")
	if err != nil {
		t.Fatal(err)
	}
	compact := `{"Version":"2012-10-17","Statement":[` + foreign + `]}`
	if d.Size() != len(compact) {
		t.Errorf("Size = %d, want %d", d.Size(), len(compact))
	}
	if err := d.CheckSize(len(compact)); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	err = d.CheckSize(len(compact) - 1)
	if err == nil || !strings.Contains(err.Error(), "100") && !strings.Contains(err.Error(), "would be") {
		t.Errorf("over the limit: %v", err)
	}
	// Many subjects overflow the default limit.
	big := New()
	for i := 0; i < 40; i++ {
		big.AddSubjects(provider, DefaultAudience, Subject("namespace-with-a-long-name", "service-account-"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+string(rune('a'+i/26))))
	}
	if big.CheckSize(DefaultSizeLimit) == nil {
		t.Errorf("40 subjects (%d chars) passed the %d limit", big.Size(), DefaultSizeLimit)
	}
}
