package setup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// The inline policy kubectl-irsa is shared by every ServiceAccount linked to a role: each link owns the
// statements whose Sid it derives from its namespace and ServiceAccount (PolicySid), and merges only those into
// the policy read under the role's lock. Statements with any other Sid, or none (written by hand, or the single
// statement an older kubectl irsa wrote for the last link), are kept as they are.

// PolicySidPrefix starts every Sid kubectl irsa gives an inline policy statement.
const PolicySidPrefix = "KubectlIrsa"

// RoleCreateSid is the Sid of the statement `role create` writes: the role's own permissions, not a
// ServiceAccount's (unlink never removes it; deleting the role does).
const RoleCreateSid = PolicySidPrefix + "Role"

// MaxInlinePolicySize is IAM's limit on the aggregate size of a role's inline policies, in characters without
// whitespace outside strings.
const MaxInlinePolicySize = 10240

// maxReadableSid bounds the readable part of a Sid (the hash keeps distinct ServiceAccounts distinct).
const maxReadableSid = 48

// PolicySid is the Sid of the statement ServiceAccount namespace/name owns in the inline policy: the prefix, the
// names in CamelCase (IAM allows only [A-Za-z0-9] in a Sid) cut to 48 characters, and 8 hex digits of the
// SHA-256 of "namespace/name", so names that read alike (a-b/c and ab/c) get different Sids.
func PolicySid(namespace, name string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	readable := camel(namespace) + camel(name)
	if len(readable) > maxReadableSid {
		readable = readable[:maxReadableSid]
	}
	return PolicySidPrefix + readable + hex.EncodeToString(sum[:4])
}

// camel keeps the ASCII letters and digits of s, upper-casing the first of each run.
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			if up {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		case r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}

// ownedSid reports whether sid is one of the Sids of owner: owner itself (the first statement) or owner+"PartN"
// with N from 2 to maxParts (the N-th statement of a policy document with several). Every PolicySid ends in 8
// hex digits and owner+"PartN" with N of at most 3 digits never does (its last 8 characters hold "art"), so one
// owner's Sids never match another's; an unbounded N would (the ServiceAccount a/bc1-4cddc0-part's Sid is
// PolicySid("a", "b")+"Part50637751").
func ownedSid(sid, owner string) bool {
	if sid == owner {
		return true
	}
	rest, ok := strings.CutPrefix(sid, owner+"Part")
	if !ok || rest == "" || len(rest) > len(strconv.Itoa(maxParts)) {
		return false
	}
	_, err := strconv.Atoi(rest)
	return err == nil && rest[0] != '0' && rest[0] != '+' && rest[0] != '-'
}

// maxParts bounds the statements one owner may hold (IAM's 10,240 characters hold far fewer).
const maxParts = 999

// partSid is the Sid of the i-th (from 0, below maxParts) statement of owner.
func partSid(owner string, i int) string {
	if i == 0 {
		return owner
	}
	return owner + "Part" + strconv.Itoa(i+1)
}

// policyDoc is an inline policy split into its top-level fields and its statements (raw, as read).
type policyDoc struct {
	top        map[string]json.RawMessage
	statements []json.RawMessage
}

// parsePolicyDoc splits a normalised policy; Statement may be one object or a list.
func parsePolicyDoc(doc string) (policyDoc, error) {
	var d policyDoc
	if err := json.Unmarshal([]byte(doc), &d.top); err != nil {
		return d, fmt.Errorf("policy is not a JSON object: %w", err)
	}
	st := bytes.TrimSpace(d.top["Statement"])
	delete(d.top, "Statement")
	switch {
	case len(st) == 0 || string(st) == "null":
	case st[0] == '[':
		if err := json.Unmarshal(st, &d.statements); err != nil {
			return d, fmt.Errorf("policy Statement is not a list: %w", err)
		}
	default:
		d.statements = []json.RawMessage{st}
	}
	return d, nil
}

// String is the normalised document ("" when it has no statement: IAM refuses an empty Statement).
func (d policyDoc) String() (string, error) {
	if len(d.statements) == 0 {
		return "", nil
	}
	m := make(map[string]json.RawMessage, len(d.top)+1)
	for k, v := range d.top {
		m[k] = v
	}
	if _, ok := m["Version"]; !ok {
		m["Version"] = json.RawMessage(strconv.Quote(trust.Version))
	}
	st, err := json.Marshal(d.statements)
	if err != nil {
		return "", err
	}
	m["Statement"] = st
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return NormalizePolicy(string(b))
}

// statementSid returns a statement's Sid ("" when it has none or is not an object).
func statementSid(raw json.RawMessage) string {
	var s struct{ Sid string }
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s.Sid
}

// withSid returns the statement with its Sid set to sid (a Sid it had is replaced).
func withSid(raw json.RawMessage, sid string) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("policy statement is not an object: %w", err)
	}
	m["Sid"] = json.RawMessage(strconv.Quote(sid))
	return json.Marshal(m)
}

// OwnedStatements returns the statements of the permissions' document, each with owner's Sid: owner for the
// first, owner+"Part2", ... for the next (a --policy-file may hold several); a Sid they had is replaced.
func (p Permissions) OwnedStatements(owner string) ([]json.RawMessage, error) {
	if p.Document == "" {
		return nil, nil
	}
	d, err := parsePolicyDoc(p.Document)
	if err != nil {
		return nil, err
	}
	if len(d.statements) > maxParts {
		return nil, fmt.Errorf("the policy has %d statements, more than %d: merge them", len(d.statements), maxParts)
	}
	out := make([]json.RawMessage, 0, len(d.statements))
	for i, st := range d.statements {
		raw, err := withSid(st, partSid(owner, i))
		if err != nil {
			return nil, err
		}
		out = append(out, raw)
	}
	return out, nil
}

// OwnedDocument is the inline policy holding only the permissions' statements, with owner's Sids: what kubectl irsa
// writes into a role without the policy ("" when there are no permissions).
func (p Permissions) OwnedDocument(owner string) (string, error) {
	want, err := p.OwnedStatements(owner)
	if err != nil {
		return "", err
	}
	return setOwned("", owner, want)
}

// ownedIn returns owner's statements of a normalised document (nil when doc is "").
func ownedIn(doc, owner string) ([]json.RawMessage, error) {
	if doc == "" {
		return nil, nil
	}
	d, err := parsePolicyDoc(doc)
	if err != nil {
		return nil, err
	}
	var out []json.RawMessage
	for _, st := range d.statements {
		if ownedSid(statementSid(st), owner) {
			out = append(out, st)
		}
	}
	return out, nil
}

// foreignIn counts the statements of a normalised document that are not kubectl irsa's (no Sid with our prefix).
func foreignIn(doc string) int {
	if doc == "" {
		return 0
	}
	d, err := parsePolicyDoc(doc)
	if err != nil {
		return 0
	}
	n := 0
	for _, st := range d.statements {
		if !strings.HasPrefix(statementSid(st), PolicySidPrefix) {
			n++
		}
	}
	return n
}

// setOwned returns doc (normalised, "" for none) with owner's statements replaced by want: they take the place
// of the first statement owner had, or are appended; every other statement is kept in its order. The result is
// "" when no statement is left (the policy must then be deleted: IAM refuses "Statement":[]).
func setOwned(doc, owner string, want []json.RawMessage) (string, error) {
	d := policyDoc{top: map[string]json.RawMessage{}}
	if doc != "" {
		var err error
		if d, err = parsePolicyDoc(doc); err != nil {
			return "", err
		}
	}
	var out []json.RawMessage
	placed := false
	for _, st := range d.statements {
		if !ownedSid(statementSid(st), owner) {
			out = append(out, st)
			continue
		}
		if !placed {
			out = append(out, want...)
			placed = true
		}
	}
	if !placed {
		out = append(out, want...)
	}
	d.statements = out
	return d.String()
}

// ErrPolicyTooLarge: the merged inline policy would exceed IAM's size limit for a role's inline policies.
var ErrPolicyTooLarge = errors.New("inline policy too large")

// PolicySize is the size IAM counts for a policy: its characters without whitespace outside strings.
func PolicySize(doc string) (int, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(doc)); err != nil {
		return 0, fmt.Errorf("policy is not valid JSON: %w", err)
	}
	return utf8.RuneCount(buf.Bytes()), nil
}

// checkPolicySize refuses a merged inline policy that, with the role's other inline policies, is over IAM's
// limit, with what to do.
func checkPolicySize(roleName, doc string, other otherInline) error {
	n, err := PolicySize(doc)
	if err != nil {
		return err
	}
	if other.size > 0 && n+other.size > MaxInlinePolicySize {
		return errorf(ErrPolicyTooLarge, "role %s: inline policy %s would be %d characters with this ServiceAccount's statement and the role's other inline policies (%s) have %d, together %d, over IAM's limit of %d for a role's inline policies (nothing was written): grant fewer actions, shrink or delete the other inline policies, or unlink the ServiceAccounts that no longer use the role",
			roleName, InlinePolicyName, n, strings.Join(other.names, ", "), other.size, n+other.size, MaxInlinePolicySize)
	}
	if n > MaxInlinePolicySize {
		return errorf(ErrPolicyTooLarge, "role %s: inline policy %s would be %d characters with this ServiceAccount's statement, over IAM's limit of %d for a role's inline policies (nothing was written): grant fewer actions, or unlink the ServiceAccounts that no longer use the role",
			roleName, InlinePolicyName, n, MaxInlinePolicySize)
	}
	return nil
}
