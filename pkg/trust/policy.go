// Package trust builds, merges, edits and evaluates IAM role trust policies for IRSA and EKS Pod Identity. It
// does no IO.
//
// Statements that kubectl irsa did not write are kept byte for byte: a Document holds every statement as raw
// JSON and only ever rewrites its own (those whose Sid starts with "KubectlIrsa" and that have its exact shape).
package trust

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode"
)

const (
	// ActionAssumeRoleWithWebIdentity is the STS action a pod's SDK calls with its projected token.
	ActionAssumeRoleWithWebIdentity = "sts:AssumeRoleWithWebIdentity"
	// DefaultAudience is the audience the EKS pod identity webhook requests for the projected token.
	DefaultAudience = "sts.amazonaws.com"
	// DefaultSizeLimit is IAM's default limit on a trust policy's length, counted without whitespace.
	DefaultSizeLimit = 2048
	// Version is the IAM policy language version.
	Version = "2012-10-17"

	sidPrefix = "KubectlIrsa"
)

// Provider names an IAM OIDC provider: its ARN and its issuer's host and path, the prefix of condition keys.
type Provider struct {
	ARN      string
	HostPath string
}

// NewProvider returns the IAM OIDC provider for an issuer URL in an account and partition (aws, aws-cn, ...).
func NewProvider(partition, account, issuerURL string) Provider {
	hp := HostPath(issuerURL)
	return Provider{ARN: fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", partition, account, hp), HostPath: hp}
}

// HostPath strips the scheme and trailing slash of an issuer URL: https://oidc.eks.../id/X -> oidc.eks.../id/X.
func HostPath(issuerURL string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(issuerURL, "https://"), "http://")
	return strings.TrimRight(s, "/")
}

// Subject is the `sub` claim of a ServiceAccount token.
func Subject(namespace, serviceAccount string) string {
	return "system:serviceaccount:" + namespace + ":" + serviceAccount
}

// Document is a trust policy. Statements are raw JSON so that foreign statements round-trip untouched.
type Document struct {
	Version    string
	ID         string
	Statements []json.RawMessage
}

// New returns an empty trust policy.
func New() *Document { return &Document{Version: Version} }

// Parse reads a trust policy as IAM returns it: JSON, or URL-encoded JSON (GetRole's AssumeRolePolicyDocument).
func Parse(s string) (*Document, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "%") {
		decoded, err := url.QueryUnescape(s)
		if err != nil {
			return nil, fmt.Errorf("trust policy is not valid URL-encoded JSON: %w", err)
		}
		s = decoded
	}
	var raw struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("trust policy is not valid JSON: %w", err)
	}
	d := &Document{Version: raw.Version, ID: raw.ID}
	st := bytes.TrimSpace(raw.Statement)
	switch {
	case len(st) == 0 || string(st) == "null":
	case st[0] == '[':
		if err := json.Unmarshal(st, &d.Statements); err != nil {
			return nil, fmt.Errorf("trust policy Statement is not a list of objects: %w", err)
		}
	case st[0] == '{':
		d.Statements = []json.RawMessage{st}
	default:
		return nil, errors.New("trust policy Statement must be an object or a list")
	}
	for i, s := range d.Statements {
		if _, err := ParseStatement(s); err != nil {
			return nil, fmt.Errorf("trust policy statement %d: %w", i, err)
		}
	}
	return d, nil
}

// ErrEmptyPolicy is returned instead of writing a trust policy without statements, which IAM rejects.
var ErrEmptyPolicy = errors.New("the trust policy would have no statement left, which IAM does not accept")

// ForeignShapeError reports a statement that carries kubectl irsa's Sid but no longer has the shape kubectl irsa
// writes (edited by hand or by another tool). Writing ours next to it would repeat the Sid, which IAM rejects.
type ForeignShapeError struct {
	Sid string
}

func (e *ForeignShapeError) Error() string {
	return fmt.Sprintf("trust statement %q has kubectl irsa's statement id but was changed by someone else; "+
		"give it another Sid (or remove it) so that kubectl irsa can write its own statement", e.Sid)
}

// MarshalJSON writes the policy compactly, statements in their order, with Version as read (2012-10-17 when
// absent). A policy with no statement is an error (ErrEmptyPolicy): IAM rejects "Statement":[].
func (d *Document) MarshalJSON() ([]byte, error) {
	if len(d.Statements) == 0 {
		return nil, ErrEmptyPolicy
	}
	version := d.Version
	if version == "" {
		version = Version
	}
	out := struct {
		Version   string            `json:"Version"`
		ID        string            `json:"Id,omitempty"`
		Statement []json.RawMessage `json:"Statement"`
	}{Version: version, ID: d.ID, Statement: d.Statements}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, buf.Bytes()); err != nil {
		return nil, err
	}
	return compact.Bytes(), nil
}

// String returns the compact JSON of the policy, or "" when it cannot be written (no statement).
func (d *Document) String() string {
	b, err := d.MarshalJSON()
	if err != nil {
		return ""
	}
	return string(b)
}

// Indent returns the policy as indented JSON, for people.
func (d *Document) Indent() string {
	var buf bytes.Buffer
	_ = json.Indent(&buf, []byte(d.String()), "", "  ")
	return buf.String()
}

// Size is the policy's length as IAM counts it against its quota: characters without whitespace.
func (d *Document) Size() int {
	n := 0
	for _, r := range d.String() {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// SizeError is a trust policy over IAM's size limit; the caller adds how to raise the limit it was given.
type SizeError struct {
	Size, Limit int
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("the merged trust policy would be %d characters, over IAM's limit of %d (counted without whitespace): put some ServiceAccounts on another role, or raise the account's quota", e.Size, e.Limit)
}

// CheckSize returns a *SizeError naming both numbers when the policy is over limit.
func (d *Document) CheckSize(limit int) error {
	if size := d.Size(); size > limit {
		return &SizeError{Size: size, Limit: limit}
	}
	return nil
}

// Equal reports whether two policies are the same once compacted.
func (d *Document) Equal(o *Document) bool { return d.String() == o.String() }

// Clone returns a deep copy.
func (d *Document) Clone() *Document {
	c := &Document{Version: d.Version, ID: d.ID, Statements: make([]json.RawMessage, len(d.Statements))}
	for i, s := range d.Statements {
		c.Statements[i] = slices.Clone(s)
	}
	return c
}

// sid is the statement id of our statement for one provider and audience; IAM wants it alphanumeric and unique.
func sid(p Provider, audience string) string {
	h := sha256.Sum256([]byte(p.ARN + "\n" + audience))
	return sidPrefix + hex.EncodeToString(h[:5])
}

// ownStatement is the exact shape of a statement kubectl irsa writes.
type ownStatement struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Principal map[string]string         `json:"Principal"`
	Action    string                    `json:"Action"`
	Condition map[string]map[string]any `json:"Condition"`
}

// newOwnStatement writes our statement; subjects keep their order, duplicates dropped.
func newOwnStatement(p Provider, audience string, subjects []string) json.RawMessage {
	var unique []string
	for _, s := range subjects {
		if !slices.Contains(unique, s) {
			unique = append(unique, s)
		}
	}
	subjects = unique
	var sub any = subjects
	if len(subjects) == 1 {
		sub = subjects[0]
	}
	st := ownStatement{
		Sid:       sid(p, audience),
		Effect:    "Allow",
		Principal: map[string]string{"Federated": p.ARN},
		Action:    ActionAssumeRoleWithWebIdentity,
		Condition: map[string]map[string]any{"StringEquals": {
			p.HostPath + ":aud": audience,
			p.HostPath + ":sub": sub,
		}},
	}
	b, _ := json.Marshal(st)
	return b
}

// ownSubjects returns the subjects of statement raw when it is ours for provider p and audience, else ok=false.
func ownSubjects(raw json.RawMessage, p Provider, audience string) (subjects []string, ok bool) {
	st, err := ParseStatement(raw)
	if err != nil || st.Sid != sid(p, audience) || st.Effect != "Allow" || st.NotPrincipal != nil || st.NotAction != nil {
		return nil, false
	}
	if !slices.Equal(st.Principal.Federated, []string{p.ARN}) || len(st.Principal.AWS)+len(st.Principal.Service) > 0 || st.Principal.Any {
		return nil, false
	}
	if !slices.Equal(st.Action, []string{ActionAssumeRoleWithWebIdentity}) || len(st.Condition) != 1 {
		return nil, false
	}
	eq := st.Condition["StringEquals"]
	if len(eq) != 2 || !slices.Equal(eq[p.HostPath+":aud"], []string{audience}) || len(eq[p.HostPath+":sub"]) == 0 {
		return nil, false
	}
	return eq[p.HostPath+":sub"], true
}

// ownIndex finds our statement for provider p and audience: its index (-1 when there is none) and subjects. A
// statement with our Sid but not our shape is a *ForeignShapeError.
func (d *Document) ownIndex(p Provider, audience string) (int, []string, error) {
	want := sid(p, audience)
	for i, raw := range d.Statements {
		if subs, ok := ownSubjects(raw, p, audience); ok {
			return i, subs, nil
		}
		if st, err := ParseStatement(raw); err == nil && strings.EqualFold(st.Sid, want) {
			return -1, nil, &ForeignShapeError{Sid: st.Sid}
		}
	}
	return -1, nil, nil
}

// AddSubjectsChecked grants each subject the role through provider p with the given audience. A subject that the
// policy certainly admits already (Evaluate says Admits) is skipped; the others go into our statement for that
// provider and audience, created when missing. Foreign statements are never changed. It returns the subjects
// that changed the document. When a subject needs our statement but a hand-edited statement carries our Sid, it
// returns a *ForeignShapeError and changes nothing.
func (d *Document) AddSubjectsChecked(p Provider, audience string, subjects ...string) ([]string, error) {
	idx, current, err := d.ownIndex(p, audience)
	if err != nil {
		for _, sub := range subjects {
			if d.Evaluate(Claims{ProviderARN: p.ARN, HostPath: p.HostPath, Subject: sub, Audience: audience}).Verdict != Admits {
				return nil, err
			}
		}
		return nil, nil
	}
	var added []string
	for _, sub := range subjects {
		if slices.Contains(added, sub) || slices.Contains(current, sub) {
			continue
		}
		if d.Evaluate(Claims{ProviderARN: p.ARN, HostPath: p.HostPath, Subject: sub, Audience: audience}).Verdict == Admits {
			continue
		}
		added = append(added, sub)
		current = append(slices.Clone(current), sub)
		if idx < 0 {
			idx = len(d.Statements)
			d.Statements = append(d.Statements, nil)
		}
		d.Statements[idx] = newOwnStatement(p, audience, current)
	}
	return added, nil
}

// AddSubjects is AddSubjectsChecked without the error, kept for existing callers: when our Sid is taken by a
// hand-edited statement it changes nothing and returns nil. Prefer AddSubjectsChecked.
func (d *Document) AddSubjects(p Provider, audience string, subjects ...string) []string {
	added, _ := d.AddSubjectsChecked(p, audience, subjects...)
	return added
}

// RemoveSubjects takes subjects out of our statement for provider p and audience, dropping the statement when
// it is left with none, and keeps every other statement byte for byte. It works on the current document, so a
// rollback removes only what its run added. It returns the subjects removed. When nothing would remain it
// returns ErrEmptyPolicy (the caller deletes the role or refuses); with a hand-edited statement carrying our
// Sid, a *ForeignShapeError. On error the document is unchanged.
func (d *Document) RemoveSubjects(p Provider, audience string, subjects ...string) ([]string, error) {
	idx, current, err := d.ownIndex(p, audience)
	if err != nil || idx < 0 {
		return nil, err
	}
	var removed []string
	rest := slices.DeleteFunc(slices.Clone(current), func(s string) bool {
		if slices.Contains(subjects, s) {
			if !slices.Contains(removed, s) {
				removed = append(removed, s)
			}
			return true
		}
		return false
	})
	if len(removed) == 0 {
		return nil, nil
	}
	if len(rest) == 0 && len(d.Statements) == 1 {
		return nil, ErrEmptyPolicy
	}
	if len(rest) > 0 {
		d.Statements[idx] = newOwnStatement(p, audience, rest)
	} else {
		d.Statements = slices.Delete(d.Statements, idx, idx+1)
	}
	return removed, nil
}

// RemoveSubject takes subject out of our statement for provider p and audience, dropping the statement when left
// with no subject. It reports whether it removed anything, and whether the policy still admits the subject
// through a statement that is not ours (which it leaves alone). It may leave the document without statements;
// RemoveSubjects refuses that with ErrEmptyPolicy instead.
func (d *Document) RemoveSubject(p Provider, audience, subject string) (removed, stillAdmitted bool) {
	kept := d.Statements[:0:0]
	for _, raw := range d.Statements {
		subs, ok := ownSubjects(raw, p, audience)
		if !ok || !slices.Contains(subs, subject) {
			kept = append(kept, raw)
			continue
		}
		removed = true
		rest := slices.DeleteFunc(slices.Clone(subs), func(s string) bool { return s == subject })
		if len(rest) > 0 {
			kept = append(kept, newOwnStatement(p, audience, rest))
		}
	}
	d.Statements = kept
	stillAdmitted = d.Evaluate(Claims{ProviderARN: p.ARN, HostPath: p.HostPath, Subject: subject, Audience: audience}).Allowed
	return removed, stillAdmitted
}

// Subjects lists the `sub` values that Allow statements naming provider p admit with a positive operator
// (StringEquals, StringLike, ...). Values under negated operators (StringNotEquals admits every other subject)
// and in Deny statements are not admitted subjects and are left out.
func (d *Document) Subjects(p Provider) []string {
	var out []string
	for _, raw := range d.Statements {
		st, err := ParseStatement(raw)
		if err != nil || st.Effect != "Allow" || !slices.Contains(st.Principal.Federated, p.ARN) {
			continue
		}
		for op, keys := range st.Condition {
			if strings.Contains(op, "Not") || strings.HasSuffix(op, "Null") {
				continue
			}
			for key, values := range keys {
				if strings.EqualFold(key, p.HostPath+":sub") {
					out = append(out, values...)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// NegatedSubject is a condition of an Allow statement that admits every `sub` except the listed ones.
type NegatedSubject struct {
	Index    int      `json:"index"`
	Operator string   `json:"operator"`
	Values   []string `json:"values"`
}

// NegatedSubjects lists the `sub` conditions with a negated operator (StringNotEquals, StringNotLike, ...) in
// Allow statements naming provider p: each admits every other ServiceAccount of the cluster.
func (d *Document) NegatedSubjects(p Provider) []NegatedSubject {
	var out []NegatedSubject
	for i, raw := range d.Statements {
		st, err := ParseStatement(raw)
		if err != nil || st.Effect != "Allow" || !(st.Principal.Any || slices.Contains(st.Principal.Federated, p.ARN)) {
			continue
		}
		for _, op := range slices.Sorted(maps.Keys(st.Condition)) {
			if !strings.Contains(op, "Not") {
				continue
			}
			for _, key := range slices.Sorted(maps.Keys(st.Condition[op])) {
				if strings.EqualFold(key, p.HostPath+":sub") {
					out = append(out, NegatedSubject{Index: i, Operator: op, Values: st.Condition[op][key]})
				}
			}
		}
	}
	return out
}
