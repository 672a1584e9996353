package trust

import (
	"strings"
	"testing"
)

func stmt(effect, principal, action, condition string) string {
	s := `{"Effect":"` + effect + `","Principal":` + principal + `,"Action":` + action
	if condition != "" {
		s += `,"Condition":` + condition
	}
	return s + `}`
}

func TestEvaluate(t *testing.T) {
	fed := `{"Federated":"` + provider.ARN + `"}`
	act := `"sts:AssumeRoleWithWebIdentity"`
	hp := provider.HostPath
	claims := Claims{ProviderARN: provider.ARN, HostPath: hp, Subject: subA, Audience: DefaultAudience}
	exact := `{"StringEquals":{"` + hp + `:sub":"` + subA + `","` + hp + `:aud":"sts.amazonaws.com"}}`
	tests := []struct {
		name       string
		statements []string
		claims     Claims
		want       bool
	}{
		{"exact match", []string{stmt("Allow", fed, act, exact)}, claims, true},
		{"other service account", []string{stmt("Allow", fed, act, `{"StringEquals":{"`+hp+`:sub":"system:serviceaccount:irsa-ns:irsa-sa"}}`)}, claims, false},
		{"wrong audience", []string{stmt("Allow", fed, act, exact)}, Claims{provider.ARN, hp, subA, "other"}, false},
		{"issuer URL as principal", []string{stmt("Allow", `{"Federated":"`+issuer+`"}`, act, exact)}, claims, false},
		{"other provider", []string{stmt("Allow", `{"Federated":"`+other.ARN+`"}`, act, exact)}, claims, false},
		{"wrong action", []string{stmt("Allow", fed, `"sts:AssumeRole"`, exact)}, claims, false},
		{"action wildcard", []string{stmt("Allow", fed, `["sts:*"]`, exact)}, claims, true},
		{"action case-insensitive", []string{stmt("Allow", fed, `"STS:assumerolewithwebidentity"`, exact)}, claims, true},
		{"namespace wildcard StringLike", []string{stmt("Allow", fed, act, `{"StringLike":{"`+hp+`:sub":"system:serviceaccount:irsa-sample-ns:*"}}`)}, claims, true},
		{"wildcard under StringEquals is literal", []string{stmt("Allow", fed, act, `{"StringEquals":{"`+hp+`:sub":"system:serviceaccount:irsa-sample-ns:*"}}`)}, claims, false},
		{"question mark", []string{stmt("Allow", fed, act, `{"StringLike":{"`+hp+`:sub":"system:serviceaccount:irsa-sample-ns:irsa-tes?"}}`)}, claims, true},
		{"sub list", []string{stmt("Allow", fed, act, `{"StringEquals":{"`+hp+`:sub":["a","`+subA+`"]}}`)}, claims, true},
		{"condition key typo fails", []string{stmt("Allow", fed, act, `{"StringEquals":{"`+hp+`:subject":"`+subA+`"}}`)}, claims, false},
		{"condition key of another issuer fails", []string{stmt("Allow", fed, act, `{"StringEquals":{"`+other.HostPath+`:sub":"`+subA+`"}}`)}, claims, false},
		{"deny wins", []string{stmt("Allow", fed, act, exact), stmt("Deny", fed, act, "")}, claims, false},
		{"not equals", []string{stmt("Allow", fed, act, `{"StringNotEquals":{"`+hp+`:sub":"system:serviceaccount:kube-system:x"}}`)}, claims, true},
		{"IfExists on absent key", []string{stmt("Allow", fed, act, `{"StringEqualsIfExists":{"`+hp+`:amr":"x"}}`)}, claims, true},
		{"Null false means present", []string{stmt("Allow", fed, act, `{"Null":{"`+hp+`:sub":"false"}}`)}, claims, true},
		{"unsupported operator", []string{stmt("Allow", fed, act, `{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`)}, claims, false},
		{"star principal", []string{stmt("Allow", `"*"`, act, exact)}, claims, true},
		{"no statements", nil, claims, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(`{"Version":"2012-10-17","Statement":[` + strings.Join(tt.statements, ",") + `]}`)
			if err != nil {
				t.Fatal(err)
			}
			ev := d.Evaluate(tt.claims)
			if ev.Allowed != tt.want {
				t.Errorf("Allowed = %v, want %v: %+v", ev.Allowed, tt.want, ev.Statements)
			}
		})
	}
}

func TestEvaluateShowsBothSides(t *testing.T) {
	hp := provider.HostPath
	d, _ := Parse(`{"Version":"2012-10-17","Statement":[` + stmt("Allow", `{"Federated":"`+provider.ARN+`"}`, `"sts:AssumeRoleWithWebIdentity"`,
		`{"StringEquals":{"`+hp+`:sub":"system:serviceaccount:irsa-ns:irsa-sa"}}`) + `]}`)
	ev := d.Evaluate(Claims{provider.ARN, hp, subA, DefaultAudience})
	c := ev.Statements[0].Conditions[0]
	if c.Pass || c.Expected[0] != "system:serviceaccount:irsa-ns:irsa-sa" || c.Actual != subA {
		t.Errorf("condition = %+v", c)
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		p, v string
		want bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abd", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*:*:x", "a:b:x", true}, {"ab", "abc", false},
		{"a**b", "ab", true}, {"", "", true}, {"", "a", false},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.p, tt.v, false); got != tt.want {
			t.Errorf("wildcardMatch(%q,%q) = %v", tt.p, tt.v, got)
		}
	}
}
