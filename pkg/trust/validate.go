package trust

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// identityActionRE is an action as IAM accepts it in a policy: "*" or service:action, wildcards allowed.
var identityActionRE = regexp.MustCompile(`^(\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+)$`)

// ValidateIdentityPolicy checks an identity-based (permissions) policy document as IAM does before accepting it,
// and returns every problem found (none when IAM would accept it): one JSON object and nothing after it, a known
// Version, a non-empty Statement, and in each statement an Effect of Allow or Deny, Action or NotAction (one,
// each service:action), Resource or NotResource (one), no Principal or NotPrincipal, and a Sid used once.
func ValidateIdentityPolicy(doc string) []string {
	dec := json.NewDecoder(strings.NewReader(doc))
	var top map[string]json.RawMessage
	if err := dec.Decode(&top); err != nil {
		return []string{fmt.Sprintf("not a JSON object: %v", err)}
	}
	var problems []string
	if _, err := dec.Token(); err != io.EOF {
		problems = append(problems, "data after the end of the JSON document")
	}
	var version string
	switch raw, ok := top["Version"]; {
	case !ok:
		problems = append(problems, `Version is missing: write "Version": "2012-10-17"`)
	case json.Unmarshal(raw, &version) != nil || version != Version && version != "2008-10-17":
		problems = append(problems, fmt.Sprintf(`Version %s is not one IAM knows: write "Version": "2012-10-17"`, raw))
	}
	var statements []json.RawMessage
	raw := top["Statement"]
	switch s := strings.TrimSpace(string(raw)); {
	case s == "" || s == "null":
		return append(problems, "Statement is missing")
	case strings.HasPrefix(s, "["):
		if err := json.Unmarshal(raw, &statements); err != nil {
			return append(problems, fmt.Sprintf("Statement is not a list of objects: %v", err))
		}
	default:
		statements = []json.RawMessage{raw}
	}
	if len(statements) == 0 {
		problems = append(problems, "Statement is empty: IAM wants at least one statement")
	}
	sids := map[string]int{}
	for i, st := range statements {
		for _, p := range statementProblems(st, sids, i+1) {
			problems = append(problems, fmt.Sprintf("statement %d: %s", i+1, p))
		}
	}
	return problems
}

// statementProblems checks one statement of an identity policy; sids records the Sids seen (to their statement).
func statementProblems(raw json.RawMessage, sids map[string]int, n int) []string {
	var st map[string]json.RawMessage
	if err := json.Unmarshal(raw, &st); err != nil {
		return []string{"not a JSON object"}
	}
	var out []string
	var sid string
	if r, ok := st["Sid"]; ok && json.Unmarshal(r, &sid) == nil && sid != "" {
		if first, dup := sids[sid]; dup {
			out = append(out, fmt.Sprintf("Sid %q is already used by statement %d: Sids must be unique", sid, first))
		} else {
			sids[sid] = n
		}
	}
	var effect string
	switch r, ok := st["Effect"]; {
	case !ok:
		out = append(out, "Effect is missing: write Allow or Deny")
	case json.Unmarshal(r, &effect) != nil || effect != "Allow" && effect != "Deny":
		out = append(out, fmt.Sprintf("Effect %s must be Allow or Deny", r))
	}
	for _, k := range []string{"Principal", "NotPrincipal"} {
		if _, ok := st[k]; ok {
			out = append(out, k+" is not allowed in a permissions policy (it belongs in a trust policy): remove it")
		}
	}
	out = append(out, oneOf(st, "Action", "NotAction")...)
	out = append(out, oneOf(st, "Resource", "NotResource")...)
	for _, k := range []string{"Action", "NotAction"} {
		var actions StringList
		if r, ok := st[k]; ok {
			if err := json.Unmarshal(r, &actions); err != nil {
				out = append(out, fmt.Sprintf("%s must be a string or a list of strings", k))
				continue
			}
			for _, a := range actions {
				if !identityActionRE.MatchString(a) {
					out = append(out, fmt.Sprintf("%s %q is not written service:action (such as s3:GetObject)", k, a))
				}
			}
		}
	}
	return out
}

// oneOf requires exactly one of two keys (Action or NotAction, Resource or NotResource).
func oneOf(st map[string]json.RawMessage, a, b string) []string {
	_, hasA := st[a]
	_, hasB := st[b]
	switch {
	case !hasA && !hasB:
		return []string{fmt.Sprintf("%s (or %s) is missing", a, b)}
	case hasA && hasB:
		return []string{fmt.Sprintf("use %s or %s, not both", a, b)}
	}
	return nil
}
