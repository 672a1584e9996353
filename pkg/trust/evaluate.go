package trust

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// Claims are what a pod presents to sts:AssumeRoleWithWebIdentity: the provider its token's issuer maps to and
// the token's sub and aud claims.
type Claims struct {
	ProviderARN string
	HostPath    string
	Subject     string
	Audience    string
}

// Verdict is the three-valued outcome of an evaluation.
type Verdict string

const (
	// Admits: IAM certainly lets the request assume the role.
	Admits Verdict = "admits"
	// Refuses: IAM certainly refuses it, whatever the keys the evaluator does not know.
	Refuses Verdict = "refuses"
	// CannotTell: the outcome depends on condition keys or operators the evaluator does not model.
	CannotTell Verdict = "cannot-tell"
)

// ConditionResult is the outcome of one condition key of one statement.
type ConditionResult struct {
	Operator string   `json:"operator"`
	Key      string   `json:"key"`
	Expected []string `json:"expected"`
	// Actual is the value the token presents for Key; empty when the request has no such key.
	Actual string `json:"actual,omitempty"`
	Pass   bool   `json:"pass"`
	// Unknown: the evaluator cannot know the key's value or does not model the operator; Pass is then false.
	Unknown bool `json:"unknown,omitempty"`
	// Note explains a failure that is not a plain mismatch (absent key, unmodelled key or operator).
	Note string `json:"note,omitempty"`
}

// StatementResult is the outcome of one statement.
type StatementResult struct {
	Index  int    `json:"index"`
	Sid    string `json:"sid,omitempty"`
	Effect string `json:"effect"`
	// PrincipalMatch: the statement names the request's principal (or "*").
	PrincipalMatch bool `json:"principalMatch"`
	// ActionMatch: the statement covers the requested action.
	ActionMatch bool              `json:"actionMatch"`
	Conditions  []ConditionResult `json:"conditions,omitempty"`
	// Matches: principal, action and every condition certainly match.
	Matches bool `json:"matches"`
	// Undecided: nothing fails for certain, but a condition or principal cannot be decided locally.
	Undecided bool `json:"undecided,omitempty"`
}

// Evaluation is the outcome of a whole trust policy for one request.
type Evaluation struct {
	// Allowed is Verdict == Admits: some Allow statement certainly matches and no Deny statement may.
	Allowed bool    `json:"allowed"`
	Verdict Verdict `json:"verdict"`
	// UnknownKeys are the condition keys (or NotPrincipal) the verdict CannotTell depends on, sorted.
	UnknownKeys []string          `json:"unknownKeys,omitempty"`
	Statements  []StatementResult `json:"statements"`
}

// keyState says what the evaluator knows of a condition key in the request context.
type keyState int8

const (
	keyUnknown keyState = iota
	keyAbsent
	keyPresent
)

// request is what one evaluation knows: the action, how to match principals, and the condition keys.
type request struct {
	action string
	// identity: the statements are an identity-based policy's, which name no principal (the policy applies to
	// the role it is attached to) and whose Resource or NotResource must cover resource ("" when unknown).
	identity  bool
	resource  string
	principal func(Principal) bool
	lookup    func(key string) (string, keyState)
}

// Evaluate decides, as IAM would, whether the trust policy lets a token with these claims assume the role.
// The modelled keys are `HOST/PATH:sub` and `HOST/PATH:aud` (and `accounts.google.com:oaud`, the only provider
// IAM documents oaud for); other keys of an OIDC provider are claims the request does not carry. Global and
// service keys (aws:SourceIp, aws:RequestTag/..., sts:RoleSessionName, ...) are unknown: a verdict that depends on
// them is CannotTell.
func (d *Document) Evaluate(c Claims) Evaluation {
	return d.evaluate(request{
		action: ActionAssumeRoleWithWebIdentity,
		// IAM: "Principal": {"AWS": "*"} is the same as "Principal": "*", every principal; a Federated "*"
		// names every identity provider.
		principal: func(p Principal) bool {
			return slices.Contains(p.AWS, "*") || slices.ContainsFunc(p.Federated, func(f string) bool { return f == "*" || f == c.ProviderARN })
		},
		lookup: func(key string) (string, keyState) { return webIdentityValue(key, c) },
	})
}

// webIdentityValue returns what AssumeRoleWithWebIdentity puts in the request context for a condition key.
func webIdentityValue(key string, c Claims) (string, keyState) {
	switch {
	case strings.EqualFold(key, c.HostPath+":sub"):
		return c.Subject, keyPresent
	case strings.EqualFold(key, c.HostPath+":aud"):
		return c.Audience, keyPresent
	case strings.EqualFold(c.HostPath, "accounts.google.com") && strings.EqualFold(key, c.HostPath+":oaud"):
		return c.Audience, keyPresent
	}
	if isProviderKey(key) {
		// A claim key of this provider that IAM does not populate for it, or a key of another provider.
		return "", keyAbsent
	}
	return "", keyUnknown
}

// isProviderKey reports whether a condition key is an identity provider's (HOST[/PATH]:claim) rather than a
// global or service key (aws:..., sts:...), whose prefix has no dot.
func isProviderKey(key string) bool {
	i := strings.LastIndex(key, ":")
	return i > 0 && strings.ContainsAny(key[:i], "./")
}

func (d *Document) evaluate(req request) Evaluation {
	ev := Evaluation{Statements: []StatementResult{}}
	allowYes, allowMaybe, denyYes, denyMaybe := false, false, false, false
	var allowUnknown, denyUnknown []string
	for i, raw := range d.Statements {
		st, err := ParseStatement(raw)
		if err != nil {
			continue
		}
		r, unknown := evaluateStatement(st, req)
		r.Index = i
		ev.Statements = append(ev.Statements, r)
		deny := st.Effect == "Deny"
		switch {
		case r.Matches && deny:
			denyYes = true
		case r.Matches:
			allowYes = true
		case r.Undecided && deny:
			denyMaybe = true
			denyUnknown = append(denyUnknown, unknown...)
		case r.Undecided:
			allowMaybe = true
			allowUnknown = append(allowUnknown, unknown...)
		}
	}
	switch {
	case denyYes:
		ev.Verdict = Refuses
	case allowYes && !denyMaybe:
		ev.Verdict = Admits
	case allowYes:
		ev.Verdict, ev.UnknownKeys = CannotTell, denyUnknown
	case allowMaybe:
		ev.Verdict, ev.UnknownKeys = CannotTell, append(allowUnknown, denyUnknown...)
	default:
		ev.Verdict = Refuses
	}
	slices.Sort(ev.UnknownKeys)
	ev.UnknownKeys = slices.Compact(ev.UnknownKeys)
	ev.Allowed = ev.Verdict == Admits
	return ev
}

// evaluateStatement returns the statement's result and, when undecided, what it depends on.
func evaluateStatement(st Statement, req request) (StatementResult, []string) {
	r := StatementResult{Sid: st.Sid, Effect: st.Effect}
	principal := no
	var unknown []string
	switch {
	case st.NotPrincipal != nil:
		var np Principal
		if err := np.UnmarshalJSON(st.NotPrincipal); err == nil && (np.Any || req.principal(np)) {
			principal = no // the principal is excluded
		} else if st.Effect == "Deny" {
			principal = yes // a Deny with NotPrincipal applies to every principal it does not list
		} else {
			// Allow with NotPrincipal: IAM advises against it; never count it as a certain grant.
			principal = maybe
			unknown = append(unknown, "NotPrincipal")
		}
	case req.identity || st.Principal.Any || req.principal(st.Principal):
		principal = yes
	}
	r.PrincipalMatch = principal == yes
	if req.identity {
		switch resourceMatch(st, req.resource) {
		case no:
			principal = no
		case maybe:
			principal = min(principal, maybe)
			unknown = append(unknown, "Resource")
		}
	}
	if len(st.NotAction) > 0 {
		r.ActionMatch = !matchesAny(st.NotAction, req.action, true)
	} else {
		r.ActionMatch = matchesAny(st.Action, req.action, true)
	}
	result := principal
	if !r.ActionMatch {
		result = no
	}
	for _, op := range slices.Sorted(maps.Keys(st.Condition)) {
		for _, key := range slices.Sorted(maps.Keys(st.Condition[op])) {
			cr := evaluateCondition(op, key, st.Condition[op][key], req.lookup)
			r.Conditions = append(r.Conditions, cr)
			switch {
			case cr.Unknown:
				result = min(result, maybe)
				unknown = append(unknown, cr.Key)
			case !cr.Pass:
				result = no
			}
		}
	}
	r.Matches = result == yes
	r.Undecided = result == maybe
	if !r.Undecided {
		unknown = nil
	}
	return r, unknown
}

// resourceMatch says whether a statement's Resource (or NotResource) covers the resource ARN; with the ARN
// unknown (""), only "*" certainly covers it. A statement with neither covers nothing.
func resourceMatch(st Statement, resource string) tri {
	patterns, negated := st.Resource, false
	if len(st.NotResource) > 0 {
		patterns, negated = st.NotResource, true
	}
	if len(patterns) == 0 {
		return no
	}
	star := slices.Contains(patterns, "*")
	switch {
	case star:
		return map[bool]tri{false: yes, true: no}[negated]
	case resource == "":
		return maybe
	}
	found := slices.ContainsFunc(patterns, func(p string) bool { return arnMatch(p, resource) })
	if found != negated {
		return yes
	}
	return no
}

// tri is a three-valued truth: no < maybe < yes, so min is Kleene's AND.
type tri int8

const (
	no tri = iota
	maybe
	yes
)

// evaluateCondition evaluates one operator and key against the request context, following the IAM User Guide
// (condition operators, and set operators for multivalued context keys).
func evaluateCondition(op, key string, expected []string, lookup func(string) (string, keyState)) ConditionResult {
	r := ConditionResult{Operator: op, Key: key, Expected: expected}
	actual, state := lookup(key)
	if state == keyPresent {
		r.Actual = actual
	}
	base, setOp := op, ""
	if q, rest, ok := strings.Cut(op, ":"); ok {
		setOp, base = q, rest
	}
	ifExists := strings.HasSuffix(base, "IfExists")
	base = strings.TrimSuffix(base, "IfExists")
	negated := strings.Contains(base, "Not")

	if state == keyUnknown {
		r.Unknown = true
		r.Note = fmt.Sprintf("the value of %s in this request cannot be known locally", key)
		return r
	}
	if base == "Null" {
		// Null: "true" passes when the key is absent, "false" when it is present; several values are ORed.
		r.Pass = slices.ContainsFunc(expected, func(v string) bool {
			return strings.EqualFold(v, "true") && state == keyAbsent || strings.EqualFold(v, "false") && state == keyPresent
		})
		return r
	}
	// For a set operator, an empty value is a null data set, like a missing key.
	if state == keyAbsent || setOp != "" && actual == "" {
		switch {
		case setOp == "ForAnyValue":
			r.Note = fmt.Sprintf("ForAnyValue is false when the request has no %s", key)
		case setOp == "ForAllValues", ifExists, negated:
			r.Pass = true
		default:
			r.Note = fmt.Sprintf("the request carries no %s", key)
		}
		return r
	}
	if slices.ContainsFunc(expected, func(v string) bool { return strings.Contains(v, "${") }) {
		r.Unknown = true
		r.Note = "policy variables are not evaluated locally"
		return r
	}
	var match func(pattern, value string) bool
	switch base {
	case "StringEquals", "StringNotEquals":
		match = func(p, v string) bool { return p == v }
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringLike", "StringNotLike":
		match = func(p, v string) bool { return wildcardMatch(p, v, false) }
	case "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike":
		match = arnMatch
	default:
		r.Unknown = true
		r.Note = fmt.Sprintf("operator %s is not evaluated locally", op)
		return r
	}
	// Several values for one key are ORed; a negated operator passes when none matches.
	found := slices.ContainsFunc(expected, func(p string) bool { return match(p, actual) })
	r.Pass = found != negated
	return r
}

// arnMatch compares an ARN with an ARN pattern component by component, each with IAM wildcards. A pattern of
// fewer than six components has a * that ends a component and, as the IAM User Guide says of wildcards in
// resource ARNs, expands beyond the colons (arn:aws:eks:* covers every EKS resource): it is matched against the
// whole ARN.
func arnMatch(pattern, value string) bool {
	pp, vp := strings.SplitN(pattern, ":", 6), strings.SplitN(value, ":", 6)
	if len(pp) < 6 && strings.Contains(pattern, "*") {
		return wildcardMatch(pattern, value, false)
	}
	if len(pp) != 6 || len(vp) != 6 {
		return false
	}
	for i := range pp {
		if !wildcardMatch(pp[i], vp[i], false) {
			return false
		}
	}
	return true
}

// matchesAny reports whether value matches any IAM wildcard pattern (case-insensitive for actions).
func matchesAny(patterns []string, value string, foldCase bool) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return wildcardMatch(p, value, foldCase) })
}

// wildcardMatch matches IAM patterns: * is any run of characters, ? exactly one character (a rune, not a byte).
// Linear-time greedy matcher with one backtrack point.
func wildcardMatch(pattern, value string, foldCase bool) bool {
	if foldCase {
		pattern, value = strings.ToLower(pattern), strings.ToLower(value)
	}
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(value) {
		vr, vw := utf8.DecodeRuneInString(value[v:])
		if p < len(pattern) {
			pr, pw := utf8.DecodeRuneInString(pattern[p:])
			switch {
			case pr == '*':
				star, mark = p+pw, v
				p += pw
				continue
			case pr == '?' || pr == vr:
				p += pw
				v += vw
				continue
			}
		}
		if star < 0 {
			return false
		}
		// Let the last * take one more character and retry after it.
		_, mw := utf8.DecodeRuneInString(value[mark:])
		mark += mw
		p, v = star, mark
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

// Denial is a Deny statement that refuses (Certain) or may refuse a request.
type Denial struct {
	Index   int    `json:"index"`
	Sid     string `json:"sid,omitempty"`
	Certain bool   `json:"certain"`
}

// DeniedBy lists the Deny statements that refuse, or may refuse, these claims: link calls it on the merged
// document to refuse before writing a trust that still keeps the ServiceAccount out.
func (d *Document) DeniedBy(c Claims) []Denial {
	var out []Denial
	for _, r := range d.Evaluate(c).Statements {
		if r.Effect == "Deny" && (r.Matches || r.Undecided) {
			out = append(out, Denial{Index: r.Index, Sid: r.Sid, Certain: r.Matches})
		}
	}
	return out
}
