package trust

import (
	"strings"
	"testing"
)

func TestAdminGrants(t *testing.T) {
	for _, tc := range []struct {
		name, statements string
		// want lists a substring of each grant's String, in order; none for no grant.
		want []string
	}{
		{"star", `{"Effect":"Allow","Action":"*","Resource":"*"}`, []string{`statement 1 allows "*" on every resource (it covers iam:PutRolePolicy)`}},
		{"star colon star", `{"Effect":"Allow","Action":["s3:GetObject","*:*"],"Resource":"*"}`, []string{`"*:*" on every resource`}},
		{"iam star", `{"Sid":"Iam","Effect":"Allow","Action":"iam:*","Resource":"*"}`, []string{`statement 1 (Sid "Iam") allows "iam:*"`}},
		{"sts star", `{"Effect":"Allow","Action":"sts:*","Resource":"*"}`, []string{`"sts:*" on every resource (it covers sts:AssumeRole)`}},
		{"organizations star", `{"Effect":"Allow","Action":"organizations:*","Resource":"*"}`, []string{`organizations:DetachPolicy`}},
		{"iam policy wildcard", `{"Effect":"Allow","Action":"iam:*Policy*","Resource":"*"}`, []string{`"iam:*Policy*"`}},
		{"iam put wildcard, case folded", `{"Effect":"Allow","Action":"IAM:put*","Resource":"*"}`, []string{`"IAM:put*"`}},
		{"pass role alone", `{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}`, []string{`"iam:PassRole" on every resource`}},
		{"create access key", `{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"*"}`, []string{`iam:CreateAccessKey`}},
		{"not action on star", `{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}`, []string{`every action except iam:*, organizations:* on every resource (Allow with NotAction)`}},
		{"not resource", `{"Effect":"Allow","Action":"iam:*","NotResource":"arn:aws:iam::123456789012:role/admin"}`, []string{`"iam:*"`}},
		{"every role by ARN", `{"Effect":"Allow","Action":"iam:PutRolePolicy","Resource":"arn:aws:iam::*:role/*"}`, []string{`iam:PutRolePolicy`}},
		{"every resource by short ARN", `{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:*"}`, []string{`"iam:*"`}},
		{"conditions do not exempt", `{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`, []string{`"*"`}},
		{"two statements", `{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Action":"iam:*","Resource":"*"}`, []string{`statement 2 allows "iam:*"`}},

		{"read only iam", `{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}`, nil},
		{"organizations list", `{"Effect":"Allow","Action":"organizations:List*","Resource":"*"}`, nil},
		{"s3 star", `{"Effect":"Allow","Action":"s3:*","Resource":"*"}`, nil},
		{"sts web identity only", `{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Resource":"*"}`, nil},
		{"pass one role", `{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/app-*"}`, nil},
		{"star on one bucket", `{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::bucket/*"}`, nil},
		{"not action on s3 only", `{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:s3:::*"}`, nil},
		{"iam star on some roles", `{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::123456789012:role/app-*"}`, nil},
		{"not action on every service", `{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:*:*:*:*"}`, []string{"every action except iam:*"}},
		{"iam star on every iam resource", `{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam:*"}`, []string{`"iam:*"`}},
		{"deny star", `{"Effect":"Deny","Action":"*","Resource":"*"}`, nil},
		{"not action on one resource", `{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:s3:::bucket"}`, nil},
		{"not action everything", `{"Effect":"Allow","NotAction":"*","Resource":"*"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Parse(`{"Version":"2012-10-17","Statement":[` + tc.statements + `]}`)
			if err != nil {
				t.Fatal(err)
			}
			got := doc.AdminGrants()
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %d grants %v", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i].String(), w) {
					t.Errorf("grant %d = %q, want it to contain %q", i, got[i].String(), w)
				}
			}
		})
	}
}
