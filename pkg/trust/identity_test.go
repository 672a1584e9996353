package trust

import (
	"maps"
	"slices"
	"testing"
)

func TestEvaluateIdentity(t *testing.T) {
	const action = "eks-auth:AssumeRoleForPodIdentity"
	const cluster = "arn:aws:eks:us-east-1:123456789012:cluster/prod"
	allow := `{"Effect":"Allow","Action":"eks-auth:AssumeRoleForPodIdentity","Resource":"*"}`
	cases := []struct {
		name     string
		resource string
		policies map[string][]string // policy name -> statements
		want     Verdict
		denied   []string
		allowed  []string
		unknown  []string
		// undecided: the policies the CannotTell depends on.
		undecided []string
	}{
		{name: "exact Allow", policies: map[string][]string{"a": {allow}}, want: Admits, allowed: []string{"a"}},
		{name: "no statement for the action: implicit deny", policies: map[string][]string{"a": {`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`}}, want: Refuses},
		{name: "no policy at all", want: Refuses},
		{name: "wildcard eks-auth:*", policies: map[string][]string{"a": {`{"Effect":"Allow","Action":"eks-auth:*","Resource":"*"}`}}, want: Admits, allowed: []string{"a"}},
		{name: "wildcard ? and case", policies: map[string][]string{"a": {`{"Effect":"Allow","Action":["EKS-AUTH:AssumeRoleFor?odIdentity"],"Resource":"*"}`}}, want: Admits, allowed: []string{"a"}},
		{name: "wildcard of another service", policies: map[string][]string{"a": {`{"Effect":"Allow","Action":"eks:*","Resource":"*"}`}}, want: Refuses},
		{name: "Deny * in another policy wins", policies: map[string][]string{"a": {allow}, "deny": {`{"Effect":"Deny","Action":"*","Resource":"*"}`}}, want: Refuses, denied: []string{"deny"}, allowed: []string{"a"}},
		{name: "Deny eks-auth:* in the same policy wins", policies: map[string][]string{"a": {allow, `{"Effect":"Deny","Action":"eks-auth:*","Resource":"*"}`}}, want: Refuses, denied: []string{"a"}, allowed: []string{"a"}},
		{name: "Deny NotAction of another action covers it", policies: map[string][]string{"a": {allow}, "d": {`{"Effect":"Deny","NotAction":"s3:*","Resource":"*"}`}}, want: Refuses, denied: []string{"d"}, allowed: []string{"a"}},
		{name: "Deny NotAction naming it spares it", policies: map[string][]string{"a": {allow}, "d": {`{"Effect":"Deny","NotAction":["eks-auth:*","sts:*"],"Resource":"*"}`}}, want: Admits, allowed: []string{"a"}},
		{name: "Allow NotAction of others grants it", policies: map[string][]string{"a": {`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`}}, want: Admits, allowed: []string{"a"}},
		{name: "Allow with a condition: cannot tell", policies: map[string][]string{"a": {`{"Effect":"Allow","Action":"eks-auth:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}`}}, want: CannotTell, unknown: []string{"aws:RequestedRegion"}, undecided: []string{"a"}},
		{name: "Deny with a condition over an Allow: cannot tell", policies: map[string][]string{"a": {allow}, "d": {`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}`}}, want: CannotTell, denied: []string{"d"}, allowed: []string{"a"}, unknown: []string{"aws:MultiFactorAuthPresent"}, undecided: []string{"d"}},
		{name: "Resource the cluster", resource: cluster, policies: map[string][]string{"a": {`{"Effect":"Allow","Action":"eks-auth:*","Resource":"arn:aws:eks:*:123456789012:cluster/prod"}`}}, want: Admits, allowed: []string{"a"}},
		{name: "Resource another cluster", resource: cluster, policies: map[string][]string{"a": {`{"Effect":"Allow","Action":"eks-auth:*","Resource":"arn:aws:eks:*:123456789012:cluster/dev"}`}}, want: Refuses},
		{name: "Resource of a cluster, the cluster unknown", policies: map[string][]string{"a": {`{"Effect":"Allow","Action":"eks-auth:*","Resource":"arn:aws:eks:*:123456789012:cluster/prod"}`}}, want: CannotTell, unknown: []string{"Resource"}, undecided: []string{"a"}},
		{name: "NotResource the cluster", resource: cluster, policies: map[string][]string{"a": {`{"Effect":"Allow","Action":"eks-auth:*","NotResource":"arn:aws:eks:*:*:cluster/prod"}`}}, want: Refuses},
		{name: "Deny NotResource of another cluster", resource: cluster, policies: map[string][]string{"a": {allow}, "d": {`{"Effect":"Deny","Action":"*","NotResource":"arn:aws:eks:*:*:cluster/dev"}`}}, want: Refuses, denied: []string{"d"}, allowed: []string{"a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var policies []IdentityPolicy
			for _, name := range slices.Sorted(maps.Keys(c.policies)) {
				doc, err := Parse(`{"Version":"2012-10-17","Statement":[` + join(c.policies[name]) + `]}`)
				if err != nil {
					t.Fatal(err)
				}
				policies = append(policies, IdentityPolicy{Name: name, Doc: doc})
			}
			got := EvaluateIdentity(action, c.resource, policies...)
			if got.Verdict != c.want || !slices.Equal(got.DeniedBy, c.denied) || !slices.Equal(got.AllowedBy, c.allowed) || !slices.Equal(got.UnknownKeys, c.unknown) || !slices.Equal(got.Undecided, c.undecided) {
				t.Errorf("got %+v, want verdict %s denied %v allowed %v unknown %v undecided %v", got, c.want, c.denied, c.allowed, c.unknown, c.undecided)
			}
		})
	}
}

func join(sts []string) string {
	out := ""
	for i, s := range sts {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}
