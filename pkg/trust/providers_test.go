package trust

import (
	"errors"
	"testing"
)

func TestRemoveProviderStatements(t *testing.T) {
	a := NewProvider("aws", "111122223333", "https://oidc.eks.us-east-1.amazonaws.com/id/AAAA")
	b := NewProvider("aws", "111122223333", "https://oidc.eks.us-east-1.amazonaws.com/id/BBBB")
	mixed := `{"Effect":"Allow","Principal":{"Federated":"` + a.ARN + `","AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRoleWithWebIdentity"}`
	d := New()
	d.AddSubjects(a, "sts.amazonaws.com", Subject("ns", "x"))
	d.AddSubjects(b, "sts.amazonaws.com", Subject("ns", "y"))
	d.Statements = append(d.Statements, []byte(mixed))
	if got := d.NamedProviders(); len(got) != 2 || got[0] != a.ARN || got[1] != b.ARN {
		t.Fatalf("named %v", got)
	}
	removed, err := d.RemoveProviderStatements([]string{a.ARN})
	if err != nil || len(removed) != 1 || len(d.Statements) != 2 {
		t.Fatalf("removed %d, left %d, err %v", len(removed), len(d.Statements), err)
	}
	if len(d.Subjects(a)) != 0 || len(d.Subjects(b)) != 1 {
		t.Errorf("subjects after removal: a %v b %v", d.Subjects(a), d.Subjects(b))
	}
	if d.RestoreStatements(removed) != 1 || d.RestoreStatements(removed) != 0 || len(d.Subjects(a)) != 1 {
		t.Errorf("restore: %s", d)
	}
	only := New()
	only.AddSubjects(a, "sts.amazonaws.com", Subject("ns", "x"))
	if _, err := only.RemoveProviderStatements([]string{a.ARN}); !errors.Is(err, ErrEmptyPolicy) || len(only.Statements) != 1 {
		t.Errorf("last statement: err %v, %d statements", err, len(only.Statements))
	}
}
