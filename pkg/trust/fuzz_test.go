package trust

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzMerge checks the merge and rollback invariants on arbitrary existing policies and subjects: a foreign
// statement is never dropped or changed, a subject is never listed twice in our statement, every added subject
// is admitted, a second merge changes nothing, no Sid is repeated, a hand-edited statement with our Sid is an
// error that changes nothing; rolling back this run's delta on the current document (after a concurrent writer
// added another subject) keeps the other writer's subject, restores our subjects as they were, and never yields
// an empty policy; Pod Identity add then remove is the identity.
func FuzzMerge(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[`+foreign+`]}`, "irsa-sample-ns", "irsa-test", "sts.amazonaws.com")
	f.Add(New().with(provider, DefaultAudience, subA), "team-b", "worker", "sts.amazonaws.com")
	f.Add(New().with(provider, DefaultAudience, subA, subB), "irsa-sample-ns", "irsa-test", "sts.amazonaws.com")
	f.Add(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}`, "a", "b", "x")
	f.Add(`{"Statement":[{"Sid":"`+sid(provider, DefaultAudience)+`","Effect":"Allow","Principal":{"Federated":"`+provider.ARN+
		`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"`+provider.HostPath+`:sub":["x","x"],"`+
		provider.HostPath+`:aud":"sts.amazonaws.com"}}}]}`, "y", "z", "sts.amazonaws.com")
	f.Add(`{"Statement":[{"Sid":"`+sid(provider, DefaultAudience)+`","Effect":"Allow","Principal":{"Federated":"`+provider.ARN+
		`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"`+provider.HostPath+`:sub":"x"}}}]}`, "y", "z", "sts.amazonaws.com")
	f.Add(`{"Statement":[`+foreign+`,{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, "a", "b", "sts.amazonaws.com")
	f.Add(`{"Statement":[{"Sid":"KubectlIrsaPodIdentity","Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, "a", "b", "sts.amazonaws.com")
	f.Add(`{"Statement":[]}`, "a", "b", "sts.amazonaws.com")
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
		added, err := d.AddSubjectsChecked(provider, aud, sub, sub)
		if err != nil {
			var fs *ForeignShapeError
			if !errors.As(err, &fs) || !d.Equal(before) {
				t.Fatalf("merge error %v, changed=%v", err, !d.Equal(before))
			}
			return
		}
		if len(added) > 1 {
			t.Fatalf("subject added twice: %v", added)
		}
		assertForeignKept(t, before, d)
		if uniqueSids(before) && !uniqueSids(d) {
			t.Fatalf("merge repeated a Sid: %s", d)
		}
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
		if more, err := again.AddSubjectsChecked(provider, aud, sub); len(more) != 0 || err != nil || !again.Equal(d) {
			t.Fatalf("second merge added %v (%v)", more, err)
		}
		if len(d.Statements) > 0 {
			if _, err := Parse(d.String()); err != nil {
				t.Fatalf("merged policy does not parse: %v\n%s", err, d)
			}
			var anyJSON any
			if err := json.Unmarshal([]byte(d.String()), &anyJSON); err != nil {
				t.Fatalf("merged policy is not JSON: %v", err)
			}
		}

		// A concurrent writer adds another subject; then this run rolls back its own delta.
		otherSub := Subject(ns+"-other", sa)
		current := d.Clone()
		theirs, err := current.AddSubjectsChecked(provider, aud, otherSub)
		if err != nil {
			t.Fatalf("concurrent merge: %v", err)
		}
		rolled := current.Clone()
		removed, err := rolled.RemoveSubjects(provider, aud, added...)
		switch {
		case errors.Is(err, ErrEmptyPolicy):
			if len(current.Statements) != 1 || !rolled.Equal(current) {
				t.Fatalf("ErrEmptyPolicy with %d statements, changed=%v", len(current.Statements), !rolled.Equal(current))
			}
			return
		case err != nil:
			t.Fatalf("rollback: %v", err)
		}
		if !slices.Equal(removed, added) {
			t.Fatalf("rollback removed %v, this run added %v", removed, added)
		}
		if len(added) > 0 && len(rolled.Statements) == 0 {
			t.Fatalf("rollback left an empty policy")
		}
		assertForeignKept(t, before, rolled)
		if len(theirs) > 0 && !rolled.Evaluate(Claims{provider.ARN, provider.HostPath, otherSub, aud}).Allowed && !hasDeny(rolled) {
			t.Fatalf("rollback lost the concurrent writer's subject %q: %s", otherSub, rolled)
		}
		// Without the concurrent writer, rollback gives back our subjects exactly as they were.
		solo := d.Clone()
		if _, err := solo.RemoveSubjects(provider, aud, added...); err == nil {
			_, was, _ := before.ownIndex(provider, aud)
			_, now, _ := solo.ownIndex(provider, aud)
			if !slices.Equal(slices.Compact(slices.Sorted(slices.Values(was))), slices.Compact(slices.Sorted(slices.Values(now)))) || len(solo.Statements) != len(before.Statements) {
				t.Fatalf("rollback did not restore our statement: was %v, now %v\n%s\n%s", was, now, before, solo)
			}
		}

		// Pod Identity: add then remove gives the document back.
		pi := rolled.Clone()
		if ok, err := pi.AddPodIdentity(PodIdentityRequest{}); err == nil && ok {
			if gone, err := pi.RemovePodIdentity(); !gone || err != nil || !pi.Equal(rolled) {
				t.Fatalf("Pod Identity remove after add: %v %v", gone, err)
			}
		}
	})
}

func uniqueSids(d *Document) bool {
	seen := map[string]bool{}
	for _, raw := range d.Statements {
		st, _ := ParseStatement(raw)
		if st.Sid == "" {
			continue
		}
		if seen[st.Sid] {
			return false
		}
		seen[st.Sid] = true
	}
	return true
}

func hasDeny(d *Document) bool {
	return slices.ContainsFunc(d.Statements, func(raw json.RawMessage) bool {
		st, _ := ParseStatement(raw)
		return strings.EqualFold(st.Effect, "Deny")
	})
}
