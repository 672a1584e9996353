package trust

import (
	"fmt"
	"slices"
	"strings"
)

// Claims are what a pod presents to sts:AssumeRoleWithWebIdentity: the provider its token's issuer maps to and
// the token's sub and aud claims.
type Claims struct {
	ProviderARN string
	HostPath    string
	Subject     string
	Audience    string
}

// ConditionResult is the outcome of one condition key of one statement.
type ConditionResult struct {
	Operator string   `json:"operator"`
	Key      string   `json:"key"`
	Expected []string `json:"expected"`
	// Actual is the value the token presents for Key; empty when the request has no such key.
	Actual string `json:"actual,omitempty"`
	Pass   bool   `json:"pass"`
	// Note explains a failure that is not a plain mismatch (unknown key, unsupported operator).
	Note string `json:"note,omitempty"`
}

// StatementResult is the outcome of one statement.
type StatementResult struct {
	Index  int    `json:"index"`
	Sid    string `json:"sid,omitempty"`
	Effect string `json:"effect"`
	// PrincipalMatch: the statement names the token's OIDC provider (or "*").
	PrincipalMatch bool `json:"principalMatch"`
	// ActionMatch: the statement covers sts:AssumeRoleWithWebIdentity.
	ActionMatch bool              `json:"actionMatch"`
	Conditions  []ConditionResult `json:"conditions,omitempty"`
	// Matches: principal, action and every condition match.
	Matches bool `json:"matches"`
}

// Evaluation is the outcome of a whole trust policy for one set of claims.
type Evaluation struct {
	// Allowed: some Allow statement matches and no Deny statement does.
	Allowed    bool              `json:"allowed"`
	Statements []StatementResult `json:"statements"`
}

// Evaluate decides, as IAM would, whether the trust policy lets a token with these claims assume the role.
// Condition keys are `HOST/PATH:sub` and `HOST/PATH:aud`; a key the request does not carry (another issuer,
// a typo) fails positive operators and passes negated and ...IfExists ones, as in IAM.
func (d *Document) Evaluate(c Claims) Evaluation {
	var ev Evaluation
	denied := false
	for i, raw := range d.Statements {
		st, err := ParseStatement(raw)
		if err != nil {
			continue
		}
		r := evaluateStatement(st, c)
		r.Index = i
		ev.Statements = append(ev.Statements, r)
		if r.Matches {
			if st.Effect == "Deny" {
				denied = true
			} else {
				ev.Allowed = true
			}
		}
	}
	if denied {
		ev.Allowed = false
	}
	return ev
}

func evaluateStatement(st Statement, c Claims) StatementResult {
	r := StatementResult{Sid: st.Sid, Effect: st.Effect}
	switch {
	case st.NotPrincipal != nil:
		r.PrincipalMatch = false // NotPrincipal with Allow is not used for federated trust; never treat it as a grant.
	case st.Principal.Any:
		r.PrincipalMatch = true
	default:
		r.PrincipalMatch = slices.Contains(st.Principal.Federated, c.ProviderARN)
	}
	if len(st.NotAction) > 0 {
		r.ActionMatch = !matchesAny(st.NotAction, ActionAssumeRoleWithWebIdentity, true)
	} else {
		r.ActionMatch = matchesAny(st.Action, ActionAssumeRoleWithWebIdentity, true)
	}
	allConditions := true
	for _, op := range sortedKeys(st.Condition) {
		for _, key := range sortedKeys(st.Condition[op]) {
			cr := evaluateCondition(op, key, st.Condition[op][key], c)
			allConditions = allConditions && cr.Pass
			r.Conditions = append(r.Conditions, cr)
		}
	}
	r.Matches = r.PrincipalMatch && r.ActionMatch && allConditions
	return r
}

// requestValue returns the value the request carries for a condition key.
func requestValue(key string, c Claims) (string, bool) {
	switch {
	case strings.EqualFold(key, c.HostPath+":sub"):
		return c.Subject, true
	case strings.EqualFold(key, c.HostPath+":aud"), strings.EqualFold(key, c.HostPath+":oaud"):
		return c.Audience, true
	}
	return "", false
}

func evaluateCondition(op, key string, expected []string, c Claims) ConditionResult {
	r := ConditionResult{Operator: op, Key: key, Expected: expected}
	actual, present := requestValue(key, c)
	r.Actual = actual

	base := op
	setOp := ""
	if q, rest, ok := strings.Cut(base, ":"); ok {
		setOp, base = q, rest
	}
	ifExists := strings.HasSuffix(base, "IfExists")
	base = strings.TrimSuffix(base, "IfExists")

	if base == "Null" {
		// Null: "true" means the key must be absent.
		wantAbsent := len(expected) == 1 && strings.EqualFold(expected[0], "true")
		r.Pass = wantAbsent != present
		return r
	}
	negated := strings.Contains(base, "Not")
	var match func(pattern, value string) bool
	switch base {
	case "StringEquals", "StringNotEquals":
		match = func(p, v string) bool { return p == v }
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringLike", "StringNotLike":
		match = func(p, v string) bool { return wildcardMatch(p, v, false) }
	default:
		r.Note = fmt.Sprintf("operator %s is not evaluated for web identity claims; treated as not matching", op)
		return r
	}
	if !present {
		switch {
		case ifExists || negated || setOp == "ForAllValues":
			r.Pass = true
		default:
			r.Note = fmt.Sprintf("the token carries no %q claim: the key should be %s:sub or %s:aud", key, c.HostPath, c.HostPath)
		}
		return r
	}
	any := slices.ContainsFunc(expected, func(p string) bool { return match(p, actual) })
	r.Pass = any != negated
	return r
}

// matchesAny reports whether value matches any IAM wildcard pattern (case-insensitive for actions).
func matchesAny(patterns []string, value string, foldCase bool) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return wildcardMatch(p, value, foldCase) })
}

// wildcardMatch matches IAM patterns: * is any run of characters, ? exactly one. Linear-time greedy matcher.
func wildcardMatch(pattern, value string, foldCase bool) bool {
	if foldCase {
		pattern, value = strings.ToLower(pattern), strings.ToLower(value)
	}
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(value) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case star >= 0:
			p = star + 1
			mark++
			v = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// WildcardMatch matches an IAM pattern (* any run of characters, ? exactly one) against value; foldCase
// compares case-insensitively, as IAM does for actions.
func WildcardMatch(pattern, value string, foldCase bool) bool {
	return wildcardMatch(pattern, value, foldCase)
}

// HasWildcard reports whether s holds an IAM wildcard character.
func HasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
