package trust

import (
	"slices"
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
		{"unsupported operator on an unknown key", []string{stmt("Allow", fed, act, `{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`)}, claims, false},
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
		// A * in the value must not be taken as the literal that a * of the pattern stands for.
		{"*", "*a", true}, {"a*", "a*b", true}, {"*b", "a*b", true},
		// ? is one character, not one byte.
		{"?", "é", true}, {"??", "é", false}, {"日?", "日本", true}, {"*本", "日本", true}, {"?*?", "é", false},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.p, tt.v, false); got != tt.want {
			t.Errorf("wildcardMatch(%q,%q) = %v", tt.p, tt.v, got)
		}
	}
}

// TestEvaluateVerdict checks the IAM rules the evaluator follows; each case cites the IAM User Guide sentence.
func TestEvaluateVerdict(t *testing.T) {
	fed := `{"Federated":"` + provider.ARN + `"}`
	act := `"sts:AssumeRoleWithWebIdentity"`
	hp := provider.HostPath
	claims := Claims{ProviderARN: provider.ARN, HostPath: hp, Subject: subA, Audience: DefaultAudience}
	exactSub := `"` + hp + `:sub":"` + subA + `"`
	exact := `{"StringEquals":{` + exactSub + `,"` + hp + `:aud":"sts.amazonaws.com"}}`
	google := Claims{ProviderARN: "accounts.google.com", HostPath: "accounts.google.com", Subject: "1234", Audience: "my-client"}
	tests := []struct {
		name       string
		statements []string
		claims     Claims
		want       Verdict
		unknown    []string
	}{
		// "ForAnyValue ... For no matching context key or a null dataset, the condition returns false."
		// (IAM User Guide, Set operators for multivalued context keys)
		{"ForAnyValue negated on an absent key is false", []string{stmt("Allow", fed, act,
			`{"StringEquals":{`+exactSub+`},"ForAnyValue:StringNotEquals":{"`+hp+`:amr":"x"}}`)}, claims, Refuses, nil},
		{"ForAnyValue IfExists on an absent key is false", []string{stmt("Allow", fed, act,
			`{"StringEquals":{`+exactSub+`},"ForAnyValue:StringEqualsIfExists":{"`+hp+`:amr":"x"}}`)}, claims, Refuses, nil},
		// "ForAllValues ... also returns true if there are no context keys in the request or if the context key
		// value resolves to a null dataset, such as an empty string." (same page)
		{"ForAllValues on an absent key is true", []string{stmt("Allow", fed, act,
			`{"StringEquals":{`+exactSub+`},"ForAllValues:StringEquals":{"`+hp+`:amr":"x"}}`)}, claims, Admits, nil},
		{"ForAnyValue on an empty sub is false", []string{stmt("Allow", fed, act, `{"ForAnyValue:StringLike":{"`+hp+`:sub":"*"}}`)},
			Claims{provider.ARN, hp, "", DefaultAudience}, Refuses, nil},
		{"ForAnyValue on a present sub matches like the plain operator", []string{stmt("Allow", fed, act, `{"ForAnyValue:StringEquals":{`+exactSub+`}}`)}, claims, Admits, nil},
		// "If the key that you specify in a policy condition is not present in the request context, the values do
		// not match and the condition is false. If the policy condition requires that the key is not matched, such
		// as StringNotLike or ArnNotLike, and the right key is not present, the condition is true."
		// (IAM User Guide, Condition operators)
		{"plain negated operator on an absent key is true", []string{stmt("Allow", fed, act,
			`{"StringEquals":{`+exactSub+`},"StringNotLike":{"`+hp+`:amr":"x"}}`)}, claims, Admits, nil},
		{"positive operator on an absent key is false", []string{stmt("Allow", fed, act,
			`{"StringEquals":{`+exactSub+`,"`+hp+`:amr":"x"}}`)}, claims, Refuses, nil},
		// StringLike: "The values can include multi-character match wildcards (*) and single-character match
		// wildcards (?) anywhere in the string." (IAM User Guide, Condition operators: a character, not a byte)
		{"? matches one multi-byte character", []string{stmt("Allow", fed, act, `{"StringLike":{"`+hp+`:sub":"system:serviceaccount:ns:caf?"}}`)},
			Claims{provider.ARN, hp, "system:serviceaccount:ns:café", DefaultAudience}, Admits, nil},
		{"?? does not match one multi-byte character", []string{stmt("Allow", fed, act, `{"StringLike":{"`+hp+`:sub":"system:serviceaccount:ns:caf??"}}`)},
			Claims{provider.ARN, hp, "system:serviceaccount:ns:café", DefaultAudience}, Refuses, nil},
		// oaud: "Example: accounts.google.com:oaud. If you use Google for web identity federation, this key
		// specifies the Google audience (aud) that this ID token is intended for." (IAM User Guide, Available keys
		// for AWS web identity federation): for an EKS provider, HOST:oaud is not the audience.
		{"HOST:oaud is not the audience of an EKS provider", []string{stmt("Allow", fed, act,
			`{"StringEquals":{`+exactSub+`,"`+hp+`:oaud":"sts.amazonaws.com"}}`)}, claims, Refuses, nil},
		{"HOST:aud is the audience", []string{stmt("Allow", fed, act, exact)}, claims, Admits, nil},
		{"accounts.google.com:oaud is Google's audience", []string{stmt("Allow", `{"Federated":"accounts.google.com"}`, act,
			`{"StringEquals":{"accounts.google.com:oaud":"my-client","accounts.google.com:sub":"1234"}}`)}, google, Admits, nil},
		// Keys the evaluator cannot know: the verdict depends on them.
		{"aws:SourceIp cannot be told", []string{stmt("Allow", fed, act,
			`{"StringEquals":{`+exactSub+`},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`)}, claims, CannotTell, []string{"aws:SourceIp"}},
		{"aws:PrincipalTag cannot be told", []string{stmt("Allow", fed, act,
			`{"StringEquals":{`+exactSub+`,"aws:PrincipalTag/team":"a"}}`)}, claims, CannotTell, []string{"aws:PrincipalTag/team"}},
		{"sts:RoleSessionName cannot be told", []string{stmt("Allow", fed, act,
			`{"StringEquals":{`+exactSub+`},"StringLike":{"sts:RoleSessionName":"botocore-*"}}`)}, claims, CannotTell, []string{"sts:RoleSessionName"}},
		{"an unknown key does not rescue a failed sub", []string{stmt("Allow", fed, act,
			`{"StringEquals":{"`+hp+`:sub":"system:serviceaccount:x:y"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`)}, claims, Refuses, nil},
		{"an unknown key in another Allow does not spoil a certain grant", []string{stmt("Allow", fed, act, exact),
			stmt("Allow", fed, act, `{"StringEquals":{"aws:RequestTag/x":"y"}}`)}, claims, Admits, nil},
		{"a Deny on an unknown key makes a grant uncertain", []string{stmt("Allow", fed, act, exact),
			stmt("Deny", fed, act, `{"StringNotEquals":{"aws:SourceAccount":"123456789012"}}`)}, claims, CannotTell, []string{"aws:SourceAccount"}},
		{"a certain Deny refuses whatever else is unknown", []string{stmt("Allow", fed, act, `{"StringEquals":{"aws:RequestTag/x":"y"}}`),
			stmt("Deny", fed, act, `{"StringEquals":{`+exactSub+`}}`)}, claims, Refuses, nil},
		{"Deny with NotPrincipal applies to principals it does not list", []string{stmt("Allow", fed, act, exact),
			`{"Effect":"Deny","NotPrincipal":{"Federated":"` + other.ARN + `"},"Action":"*"}`}, claims, Refuses, nil},
		{"Deny with NotPrincipal listing the provider does not apply", []string{stmt("Allow", fed, act, exact),
			`{"Effect":"Deny","NotPrincipal":{"Federated":"` + provider.ARN + `"},"Action":"*"}`}, claims, Admits, nil},
		{"Allow with NotPrincipal is never a certain grant", []string{`{"Effect":"Allow","NotPrincipal":{"Federated":"` + other.ARN + `"},"Action":"*"}`}, claims, CannotTell, []string{"NotPrincipal"}},
		{"NotPrincipal null is no NotPrincipal", []string{`{"Effect":"Deny","Principal":{"Federated":"` + other.ARN + `"},"NotPrincipal":null,"Action":"*"}`, stmt("Allow", fed, act, exact)}, claims, Admits, nil},
		{"policy variables cannot be told", []string{stmt("Allow", fed, act, `{"StringEquals":{"`+hp+`:sub":"${aws:username}"}}`)}, claims, CannotTell, []string{hp + ":sub"}},
		{"ArnLike on an unknown key", []string{stmt("Allow", fed, act, `{"StringEquals":{`+exactSub+`},"ArnLike":{"aws:SourceArn":"arn:aws:eks:*:*:cluster/*"}}`)}, claims, CannotTell, []string{"aws:SourceArn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(`{"Version":"2012-10-17","Statement":[` + strings.Join(tt.statements, ",") + `]}`)
			if err != nil {
				t.Fatal(err)
			}
			ev := d.Evaluate(tt.claims)
			if ev.Verdict != tt.want || ev.Allowed != (tt.want == Admits) {
				t.Errorf("Verdict = %s (Allowed %v), want %s: %+v", ev.Verdict, ev.Allowed, tt.want, ev.Statements)
			}
			if !slices.Equal(ev.UnknownKeys, tt.unknown) {
				t.Errorf("UnknownKeys = %v, want %v", ev.UnknownKeys, tt.unknown)
			}
		})
	}
}

func TestDeniedBy(t *testing.T) {
	fed := `{"Federated":"` + provider.ARN + `"}`
	act := `"sts:AssumeRoleWithWebIdentity"`
	d, err := Parse(`{"Statement":[` + foreign + `,` +
		stmt("Deny", fed, act, `{"StringLike":{"`+provider.HostPath+`:sub":"system:serviceaccount:irsa-sample-ns:*"}}`) + `,` +
		stmt("Deny", fed, act, `{"StringEquals":{"aws:RequestTag/team":"x"}}`) + `,` +
		stmt("Deny", fed, act, `{"StringEquals":{"`+provider.HostPath+`:sub":"`+subB+`"}}`) + `]}`)
	if err != nil {
		t.Fatal(err)
	}
	d.AddSubjects(provider, DefaultAudience, subA)
	got := d.DeniedBy(Claims{provider.ARN, provider.HostPath, subA, DefaultAudience})
	want := []Denial{{Index: 1, Certain: true}, {Index: 2, Certain: false}}
	if !slices.Equal(got, want) {
		t.Errorf("DeniedBy = %+v, want %+v", got, want)
	}
	if got := d.DeniedBy(Claims{provider.ARN, provider.HostPath, Subject("other", "sa"), DefaultAudience}); len(got) != 1 || got[0].Index != 2 {
		t.Errorf("other subject: %+v", got)
	}
}

// TestDeniedByWildcardPrincipal: IAM documents "Principal": {"AWS": "*"} as every principal, like "*"; a Deny
// naming every federated provider ("Federated": "*") refuses the web identity too. An Allow for another provider
// does not admit it.
func TestDeniedByWildcardPrincipal(t *testing.T) {
	act := `"sts:AssumeRoleWithWebIdentity"`
	claims := Claims{provider.ARN, provider.HostPath, subA, DefaultAudience}
	for _, tc := range []struct {
		principal string
		denied    bool
	}{
		{`{"Federated":"*"}`, true},
		{`{"AWS":"*"}`, true},
		{`"*"`, true},
		{`{"Federated":"arn:aws:iam::123456789012:oidc-provider/other.example.com"}`, false},
	} {
		d, err := Parse(`{"Version":"2012-10-17","Statement":[` + stmt("Deny", tc.principal, act, `{}`) + `]}`)
		if err != nil {
			t.Fatal(err)
		}
		d.AddSubjects(provider, DefaultAudience, subA)
		if got := len(d.DeniedBy(claims)) == 1; got != tc.denied {
			t.Errorf("Deny %s: denied=%v, want %v", tc.principal, got, tc.denied)
		}
	}
}
