package trust

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestGrants(t *testing.T) {
	like := `{"Effect":"Allow","Principal":{"Federated":"` + provider.ARN + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + provider.HostPath + `:sub":["system:serviceaccount:jobs:*","system:serviceaccount:web:exact"]}}}`
	noSub := `{"Effect":"Allow","Principal":{"Federated":"` + provider.ARN + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + provider.HostPath + `:aud":"custom"}}}`
	deny := `{"Effect":"Deny","Principal":{"Federated":"` + provider.ARN + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + provider.HostPath + `:sub":"system:serviceaccount:x:denied"}}}`
	negated := `{"Effect":"Allow","Principal":{"Federated":"` + provider.ARN + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringNotEquals":{"` + provider.HostPath + `:sub":"system:serviceaccount:x:not"},"StringEquals":{"` + provider.HostPath + `:aud":"sts.amazonaws.com"}}}`
	ours := func(subs ...string) *Document {
		d := New()
		d.AddSubjects(provider, DefaultAudience, subs...)
		d.AddSubjects(other, DefaultAudience, Subject("elsewhere", "sa"))
		return d
	}
	with := func(d *Document, raw ...string) *Document {
		for _, r := range raw {
			d.Statements = append(d.Statements, json.RawMessage(r))
		}
		return d
	}
	for _, tc := range []struct {
		name string
		doc  *Document
		want []Grant
	}{
		{"none", New(), []Grant{}},
		{"other provider only", with(New(), `{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}`), []Grant{}},
		{"our statement", ours(Subject("b", "two"), Subject("a", "one")), []Grant{{Audience: DefaultAudience, Subjects: []string{Subject("a", "one"), Subject("b", "two")}}}},
		{"like with wildcard and exact", with(ours(Subject("a", "one")), like), []Grant{{Audience: DefaultAudience,
			Subjects: []string{Subject("a", "one"), Subject("web", "exact")}, Patterns: []string{"system:serviceaccount:jobs:*"}}}},
		{"no sub condition, other audience", with(New(), noSub), []Grant{{Audience: "custom", Patterns: []string{AnySubject}}}},
		{"deny left out, negated is any", with(ours(Subject("a", "one")), deny, negated), []Grant{{Audience: DefaultAudience,
			Subjects: []string{Subject("a", "one")}, Patterns: []string{AnySubject}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.doc.Grants(provider); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Grants = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOwnSubjects(t *testing.T) {
	d := New()
	d.AddSubjects(provider, DefaultAudience, Subject("a", "one"), Subject("b", "two"))
	if got := d.OwnSubjects(provider, DefaultAudience); !reflect.DeepEqual(got, []string{Subject("a", "one"), Subject("b", "two")}) {
		t.Errorf("OwnSubjects = %v", got)
	}
	if got := d.OwnSubjects(other, DefaultAudience); got != nil {
		t.Errorf("OwnSubjects(other) = %v, want nil", got)
	}
}
