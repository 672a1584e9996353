package trust

import (
	"encoding/json"
	"errors"
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
	var se *SizeError
	if !errors.As(err, &se) || se.Size != len(compact) || se.Limit != len(compact)-1 || strings.Contains(err.Error(), "--") {
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

// TestMarshalVersion: "Version":"" is never written; a Version as read is kept.
func TestMarshalVersion(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"Statement":[` + foreign + `]}`, `{"Version":"2012-10-17","Statement":[` + foreign + `]}`},
		{`{"Version":"","Statement":[` + foreign + `]}`, `{"Version":"2012-10-17","Statement":[` + foreign + `]}`},
		{`{"Version":"2008-10-17","Id":"x","Statement":` + foreign + `}`, `{"Version":"2008-10-17","Id":"x","Statement":[` + foreign + `]}`},
	} {
		d, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.String(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

// TestNoEmptyPolicy: a document without statements is never written ("Statement":[] is rejected by IAM).
func TestNoEmptyPolicy(t *testing.T) {
	if _, err := New().MarshalJSON(); !errors.Is(err, ErrEmptyPolicy) {
		t.Errorf("MarshalJSON of an empty policy: %v", err)
	}
	if s := New().String(); s != "" {
		t.Errorf("String of an empty policy = %q", s)
	}
	if _, err := json.Marshal(New()); !errors.Is(err, ErrEmptyPolicy) {
		t.Errorf("json.Marshal of an empty policy: %v", err)
	}
}

func TestRemoveSubjects(t *testing.T) {
	ours := func(subs ...string) string { return New().with(provider, DefaultAudience, subs...) }
	withForeign := `{"Version":"2012-10-17","Statement":[` + foreign + `,` + string(newOwnStatement(provider, DefaultAudience, []string{subA, subB})) + `]}`
	edited := `{"Version":"2012-10-17","Statement":[` + foreign + `,{"Sid":"` + sid(provider, DefaultAudience) + `","Effect":"Allow","Principal":{"Federated":"` +
		provider.ARN + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + provider.HostPath + `:sub":"` + subA + `"}}}]}`
	tests := []struct {
		name        string
		start       string
		remove      []string
		wantRemoved []string
		wantErr     error
		wantSubs    []string
		wantStmts   int
	}{
		{"one of two", ours(subA, subB), []string{subA}, []string{subA}, nil, []string{subB}, 1},
		{"not there: no change", ours(subA), []string{subB}, nil, nil, []string{subA}, 1},
		{"last subject next to a foreign statement: our statement goes", withForeign, []string{subA, subB}, []string{subA, subB}, nil, nil, 1},
		{"last subject, nothing else: refused", ours(subA), []string{subA}, nil, ErrEmptyPolicy, []string{subA}, 1},
		{"duplicates in the call", ours(subA, subB), []string{subB, subB}, []string{subB}, nil, []string{subA}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.start)
			if err != nil {
				t.Fatal(err)
			}
			before := d.Clone()
			removed, err := d.RemoveSubjects(provider, DefaultAudience, tt.remove...)
			if !errors.Is(err, tt.wantErr) || !slices.Equal(removed, tt.wantRemoved) {
				t.Fatalf("removed=%v err=%v, want %v %v", removed, err, tt.wantRemoved, tt.wantErr)
			}
			if err != nil && !d.Equal(before) {
				t.Errorf("document changed on error")
			}
			if got := d.Subjects(provider); !slices.Equal(got, tt.wantSubs) || len(d.Statements) != tt.wantStmts {
				t.Errorf("subjects=%v statements=%d: %s", got, len(d.Statements), d)
			}
			if len(removed) == 0 && !d.Equal(before) {
				t.Errorf("nothing removed but the document changed")
			}
			assertForeignKept(t, before, d)
			if _, err := Parse(d.String()); err != nil {
				t.Errorf("result does not parse: %v", err)
			}
		})
	}
	t.Run("hand-edited statement with our Sid", func(t *testing.T) {
		d, err := Parse(edited)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.RemoveSubjects(provider, DefaultAudience, subA)
		var fs *ForeignShapeError
		if !errors.As(err, &fs) || fs.Sid != sid(provider, DefaultAudience) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("other provider", func(t *testing.T) {
		d, _ := Parse(ours(subA))
		if removed, err := d.RemoveSubjects(other, DefaultAudience, subA); removed != nil || err != nil || len(d.Statements) != 1 {
			t.Errorf("removed=%v err=%v", removed, err)
		}
	})
}

// TestAddSubjectsForeignShape: a hand-edited statement with our Sid is reported by Sid, instead of a second
// statement with the same Sid, which IAM rejects ("Statement IDs must be unique").
func TestAddSubjectsForeignShape(t *testing.T) {
	mine := sid(provider, DefaultAudience)
	for _, tt := range []struct {
		name, statement string
		// admitsB: the edited statement itself admits subB, so adding subB needs no write and is no error.
		admitsB bool
	}{
		{"sub moved to StringLike", `{"Sid":"` + mine + `","Effect":"Allow","Principal":{"Federated":"` + provider.ARN +
			`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + provider.HostPath + `:sub":"` + subB + `"}}}`, true},
		{"extra condition", `{"Sid":"` + mine + `","Effect":"Allow","Principal":{"Federated":"` + provider.ARN +
			`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + provider.HostPath + `:sub":"` + subB + `","` +
			provider.HostPath + `:aud":"sts.amazonaws.com"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`, false},
		{"Sid case changed on a foreign statement", `{"Sid":"` + strings.ToUpper(mine) + `","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(`{"Version":"2012-10-17","Statement":[` + tt.statement + `]}`)
			if err != nil {
				t.Fatal(err)
			}
			before := d.Clone()
			if added, err := d.AddSubjectsChecked(provider, DefaultAudience, subB); err != nil && tt.admitsB || err == nil && !tt.admitsB || added != nil {
				t.Fatalf("subject the edited statement admits: added=%v err=%v", added, err)
			}
			added, err := d.AddSubjectsChecked(provider, DefaultAudience, subA)
			var fs *ForeignShapeError
			if !errors.As(err, &fs) || !strings.EqualFold(fs.Sid, mine) || added != nil || !d.Equal(before) {
				t.Fatalf("added=%v err=%v changed=%v", added, err, !d.Equal(before))
			}
			if !strings.Contains(err.Error(), fs.Sid) || strings.Contains(err.Error(), "--") {
				t.Errorf("message %q must name the Sid and no flag", err)
			}
			if d.AddSubjects(provider, DefaultAudience, subA) != nil || !d.Equal(before) {
				t.Errorf("AddSubjects wrapper changed the document")
			}
		})
	}
}

// TestSubjectsAdmittedOnly: values under negated operators or in Deny statements are not admitted subjects.
func TestSubjectsAdmittedOnly(t *testing.T) {
	fed := `{"Federated":"` + provider.ARN + `"}`
	act := `"sts:AssumeRoleWithWebIdentity"`
	hp := provider.HostPath
	d, err := Parse(`{"Statement":[` +
		stmt("Allow", fed, act, `{"StringNotEquals":{"`+hp+`:sub":"system:serviceaccount:kube-system:x"},"StringEquals":{"`+hp+`:aud":"sts.amazonaws.com"}}`) + `,` +
		stmt("Allow", fed, act, `{"ForAnyValue:StringNotLike":{"`+hp+`:sub":"system:serviceaccount:y:*"}}`) + `,` +
		stmt("Deny", fed, act, `{"StringEquals":{"`+hp+`:sub":"`+subB+`"}}`) + `,` +
		stmt("Allow", fed, act, `{"Null":{"`+hp+`:sub":"false"}}`) + `,` +
		stmt("Allow", fed, act, `{"StringEquals":{"`+hp+`:sub":"`+subA+`"}}`) + `]}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Subjects(provider); !slices.Equal(got, []string{subA}) {
		t.Errorf("Subjects = %v", got)
	}
	neg := d.NegatedSubjects(provider)
	if len(neg) != 2 || neg[0].Index != 0 || neg[0].Operator != "StringNotEquals" || neg[1].Index != 1 || neg[1].Values[0] != "system:serviceaccount:y:*" {
		t.Errorf("NegatedSubjects = %+v", neg)
	}
	if got := d.NegatedSubjects(other); got != nil {
		t.Errorf("NegatedSubjects(other) = %+v", got)
	}
}
