package trust

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Statement is a parsed view of one policy statement, for reading and evaluation only: documents are never
// rebuilt from it, so nothing it does not model is lost.
type Statement struct {
	Sid          string
	Effect       string
	Principal    Principal
	NotPrincipal json.RawMessage
	Action       StringList
	NotAction    StringList
	// Resource and NotResource matter in identity-based policies only (EvaluateIdentity); trust policies have none.
	Resource    StringList
	NotResource StringList
	// Condition maps operator (StringEquals, ForAnyValue:StringLike, ...) to condition key to values.
	Condition map[string]map[string]StringList
}

// Principal is a statement's Principal: "*" or a map of principal types to values.
type Principal struct {
	Any       bool
	Federated StringList
	AWS       StringList
	Service   StringList
}

// UnmarshalJSON accepts "*" or {"Federated": "..."|[...], "AWS": ..., "Service": ...}.
func (p *Principal) UnmarshalJSON(b []byte) error {
	var star string
	if json.Unmarshal(b, &star) == nil {
		if star != "*" {
			return fmt.Errorf("principal %q must be \"*\" or an object", star)
		}
		p.Any = true
		return nil
	}
	var m map[string]StringList
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("principal must be \"*\" or an object of lists: %w", err)
	}
	p.Federated, p.AWS, p.Service = m["Federated"], m["AWS"], m["Service"]
	return nil
}

// StringList is a JSON string or list of strings (IAM allows both).
type StringList []string

// UnmarshalJSON accepts "a" or ["a","b"]; booleans and numbers (as in some Condition values) become strings.
func (l *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var raw []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		out := make([]string, 0, len(raw))
		for _, r := range raw {
			s, err := scalar(r)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		*l = out
		return nil
	}
	s, err := scalar(b)
	if err != nil {
		return err
	}
	*l = StringList{s}
	return nil
}

func scalar(b json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s, nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", err
	}
	switch v.(type) {
	case bool, float64:
		return string(bytes.TrimSpace(b)), nil
	}
	return "", fmt.Errorf("expected a string, got %s", b)
}

// ParseStatement parses one raw statement.
func ParseStatement(raw json.RawMessage) (Statement, error) {
	var st Statement
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, err
	}
	if string(bytes.TrimSpace(st.NotPrincipal)) == "null" {
		st.NotPrincipal = nil
	}
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return st, fmt.Errorf("effect %q must be Allow or Deny", st.Effect)
	}
	if len(st.Action) == 0 && len(st.NotAction) == 0 {
		return st, errors.New("statement has no Action")
	}
	return st, nil
}
