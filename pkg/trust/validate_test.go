package trust

import (
	"strings"
	"testing"
)

func TestValidateIdentityPolicy(t *testing.T) {
	const ok = `{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`
	for _, tc := range []struct {
		name, doc string
		want      []string // substrings, one per problem, in order
	}{
		{"valid", `{"Version":"2012-10-17","Statement":[` + ok + `]}`, nil},
		{"valid single statement object", `{"Version":"2012-10-17","Statement":` + ok + `}`, nil},
		{"old version", `{"Version":"2008-10-17","Statement":[` + ok + `]}`, nil},
		{"trailing data", `{"Version":"2012-10-17","Statement":[` + ok + `]} garbage`, []string{"data after the end"}},
		{"two documents", `{"Version":"2012-10-17","Statement":[` + ok + `]}{}`, []string{"data after the end"}},
		{"not JSON", `{"Version":`, []string{"not a JSON object"}},
		{"missing version", `{"Statement":[` + ok + `]}`, []string{"Version is missing"}},
		{"empty version", `{"Version":"","Statement":[` + ok + `]}`, []string{`Version "" is not one IAM knows`}},
		{"unknown version", `{"Version":"2020-01-01","Statement":[` + ok + `]}`, []string{`Version "2020-01-01"`}},
		{"empty statement", `{"Version":"2012-10-17","Statement":[]}`, []string{"Statement is empty"}},
		{"missing statement", `{"Version":"2012-10-17"}`, []string{"Statement is missing"}},
		{"principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`, []string{"statement 1: Principal is not allowed"}},
		{"not principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"x"},"Action":"s3:*","Resource":"*"}]}`, []string{"NotPrincipal is not allowed"}},
		{"no effect, no action, no resource", `{"Version":"2012-10-17","Statement":[{}]}`, []string{"Effect is missing", "Action (or NotAction) is missing", "Resource (or NotResource) is missing"}},
		{"bad effect", `{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"s3:*","Resource":"*"}]}`, []string{`Effect "allow" must be Allow or Deny`}},
		{"bad action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","GetObject"],"Resource":"*"}]}`, []string{`Action "GetObject" is not written service:action`}},
		{"both action and not action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"iam:*","Resource":"*"}]}`, []string{"use Action or NotAction, not both"}},
		{"duplicate sid", `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`, []string{`statement 2: Sid "A" is already used by statement 1`}},
		{"every problem at once", `{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"x"}]} trailing`, []string{"data after", "Version is missing", "Effect", "Principal", "Resource (or NotResource) is missing", `Action "x"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ValidateIdentityPolicy(tc.doc)
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %d problems %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want %q", i, got[i], w)
				}
			}
		})
	}
}
