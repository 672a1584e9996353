package trust

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzMerge checks the merge invariants on arbitrary existing policies and subjects: a foreign statement is
// never dropped or changed, a subject is never listed twice in our statement, every added subject is admitted,
// and a second merge of the same subjects changes nothing.
func FuzzMerge(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[`+foreign+`]}`, "irsa-sample-ns", "irsa-test", "sts.amazonaws.com")
	f.Add(New().with(provider, DefaultAudience, subA), "team-b", "worker", "sts.amazonaws.com")
	f.Add(New().with(provider, DefaultAudience, subA, subB), "irsa-sample-ns", "irsa-test", "sts.amazonaws.com")
	f.Add(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}`, "a", "b", "x")
	f.Add(`{"Statement":[{"Sid":"`+sid(provider, DefaultAudience)+`","Effect":"Allow","Principal":{"Federated":"`+provider.ARN+
		`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"`+provider.HostPath+`:sub":["x","x"],"`+
		provider.HostPath+`:aud":"sts.amazonaws.com"}}}]}`, "y", "z", "sts.amazonaws.com")
	f.Fuzz(func(t *testing.T, policy, ns, sa, aud string) {
		if !utf8.ValidString(ns + sa + aud) {
			return // names and audiences come from the Kubernetes API: always UTF-8
		}
		d, err := Parse(policy)
		if err != nil {
			return
		}
		sub := Subject(ns, sa)
		before := d.Clone()
		added := d.AddSubjects(provider, aud, sub, sub)
		if len(added) > 1 {
			t.Fatalf("subject added twice: %v", added)
		}
		assertForeignKept(t, before, d)
		if !d.Evaluate(Claims{provider.ARN, provider.HostPath, sub, aud}).Allowed {
			// Only a foreign Deny may keep the subject out.
			if !hasDeny(d) {
				t.Fatalf("subject %q not admitted after merge: %s", sub, d)
			}
		}
		for _, raw := range d.Statements {
			if subs, ok := ownSubjects(raw, provider, aud); ok && len(subs) != len(slices.Compact(slices.Sorted(slices.Values(subs)))) && len(added) > 0 {
				t.Fatalf("duplicate subject in our statement: %s", raw)
			}
		}
		again := d.Clone()
		if more := again.AddSubjects(provider, aud, sub); len(more) != 0 && !hasDeny(d) {
			t.Fatalf("second merge added %v", more)
		}
		if _, err := Parse(d.String()); err != nil {
			t.Fatalf("merged policy does not parse: %v\n%s", err, d)
		}
		var anyJSON any
		if err := json.Unmarshal([]byte(d.String()), &anyJSON); err != nil {
			t.Fatalf("merged policy is not JSON: %v", err)
		}
		d.RemoveSubject(provider, aud, sub)
		assertForeignKept(t, before, d)
	})
}

func hasDeny(d *Document) bool {
	return slices.ContainsFunc(d.Statements, func(raw json.RawMessage) bool {
		st, _ := ParseStatement(raw)
		return strings.EqualFold(st.Effect, "Deny")
	})
}
