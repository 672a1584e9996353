package setup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// InlinePolicyName is the name of the inline policy kubectl irsa writes.
const InlinePolicyName = "kubectl-irsa"

// Permissions are what a role must grant, parsed once: the inline policy document (from actions or a policy
// document) and the managed policies to attach.
type Permissions struct {
	// Document is the normalised inline policy ("" leaves inline policies alone).
	Document string
	// Actions are the actions Document allows, and Denied those it denies, for the plan's summary.
	Actions []string
	Denied  []string
	// Attach are the managed policies that must be attached.
	Attach []iamref.Policy
}

// InvalidActionError is an action not written service:Action.
type InvalidActionError struct{ Action string }

func (e *InvalidActionError) Error() string {
	return fmt.Sprintf("invalid action %q: write service:Action, such as eks:ListClusters or s3:Get*", e.Action)
}

var actionRE = regexp.MustCompile(`^([a-z0-9*?-]+:[A-Za-z0-9*?]+|\*)$`)

// ParseActions validates actions written as service:Action (wildcards allowed, and "*" alone, as IAM allows);
// blanks are dropped.
func ParseActions(actions []string) ([]string, error) {
	var out []string
	for _, a := range actions {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if !actionRE.MatchString(a) {
			return nil, &InvalidActionError{Action: a}
		}
		out = append(out, a)
	}
	return out, nil
}

// ActionsPolicy returns the permissions of one Allow statement of the actions on every resource.
func ActionsPolicy(actions []string) Permissions {
	if len(actions) == 0 {
		return Permissions{}
	}
	doc := map[string]any{
		"Version":   trust.Version,
		"Statement": []any{map[string]any{"Effect": "Allow", "Action": actions, "Resource": "*"}},
	}
	// json.Marshal sorts the keys and compacts: the document is already in NormalizePolicy's form.
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return Permissions{Document: string(b), Actions: actions}
}

// ErrPolicyDocument marks a permissions policy document that cannot be used.
var ErrPolicyDocument = errors.New("invalid permissions policy document")

// DocumentPolicy reads a permissions policy document (plain or URL-encoded JSON) once: it is validated as IAM
// does (trust.ValidateIdentityPolicy), normalised and its statements checked, and the actions it allows kept for the plan's summary.
func DocumentPolicy(doc []byte) (Permissions, error) {
	decoded, err := iamref.DecodePolicyDocument(strings.TrimSpace(string(doc)))
	if err != nil {
		return Permissions{}, fmt.Errorf("%w: %w", ErrPolicyDocument, err)
	}
	// Every problem IAM would refuse, at once and before any write (IAM would refuse it after the role exists).
	if problems := trust.ValidateIdentityPolicy(decoded); len(problems) > 0 {
		return Permissions{}, fmt.Errorf("%w: %s", ErrPolicyDocument, strings.Join(problems, "; "))
	}
	norm, err := NormalizePolicy(decoded)
	if err != nil {
		return Permissions{}, fmt.Errorf("%w: %w", ErrPolicyDocument, err)
	}
	var top struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(norm), &top); err != nil || len(top.Statement) == 0 {
		return Permissions{}, fmt.Errorf("%w: it must be an object with a Statement", ErrPolicyDocument)
	}
	raws := []json.RawMessage{top.Statement}
	if bytes.HasPrefix(bytes.TrimSpace(top.Statement), []byte("[")) {
		if err := json.Unmarshal(top.Statement, &raws); err != nil {
			return Permissions{}, fmt.Errorf("%w: Statement is not a list of objects: %w", ErrPolicyDocument, err)
		}
	}
	p := Permissions{Document: norm}
	for i, raw := range raws {
		st, err := trust.ParseStatement(raw)
		if err != nil {
			return Permissions{}, fmt.Errorf("%w: statement %d: %w", ErrPolicyDocument, i+1, err)
		}
		if st.Effect == "Deny" {
			p.Denied = append(p.Denied, summaryActions(st)...)
		} else {
			p.Actions = append(p.Actions, summaryActions(st)...)
		}
	}
	return p, nil
}

// Summary describes the inline policy for a plan: "allowing a, b; denying c".
func (p Permissions) Summary() string {
	return describeActions(p.Actions, p.Denied)
}

// describeActions names allowed and denied actions apart ("with no Action" when there are none: NotAction only).
func describeActions(allowed, denied []string) string {
	var parts []string
	if len(allowed) > 0 {
		parts = append(parts, "allowing "+strings.Join(allowed, ", "))
	}
	if len(denied) > 0 {
		parts = append(parts, "denying "+strings.Join(denied, ", "))
	}
	if len(parts) == 0 {
		return "with no Action"
	}
	return strings.Join(parts, "; ")
}

// summaryActions is what a statement allows or denies, for a plan: its actions, and "all but X, Y" for its
// NotAction.
func summaryActions(st trust.Statement) []string {
	if len(st.NotAction) == 0 {
		return st.Action
	}
	return append(slices.Clone(st.Action), "all but "+strings.Join(st.NotAction, ", "))
}

// statementsActions returns the Sids, the allowed and the denied actions of statements (unparsable ones are
// counted by Sid only).
func statementsActions(statements []json.RawMessage) (sids, allowed, denied []string) {
	for _, raw := range statements {
		sids = append(sids, statementSid(raw))
		st, err := trust.ParseStatement(raw)
		if err != nil {
			continue
		}
		if st.Effect == "Deny" {
			denied = append(denied, summaryActions(st)...)
		} else {
			allowed = append(allowed, summaryActions(st)...)
		}
	}
	return sids, allowed, denied
}

// namedStatements is "statement A" or "statements A, APart2".
func namedStatements(sids []string) string {
	if len(sids) == 1 {
		return "statement " + sids[0]
	}
	return "statements " + strings.Join(sids, ", ")
}

// NormalizePolicy URL-decodes (as IAM returns policies) and compacts a policy with sorted keys, so two
// documents that mean the same compare equal.
func NormalizePolicy(doc string) (string, error) {
	doc, err := iamref.DecodePolicyDocument(strings.TrimSpace(doc))
	if err != nil {
		return "", err
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("policy is not valid JSON: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}

// DefaultRoleName derives a role name from the cluster, namespace and ServiceAccount: irsa-CLUSTER-NS-SA,
// cut to 64 characters with a short hash of the full name when too long, so distinct inputs stay distinct.
func DefaultRoleName(cluster, namespace, serviceAccount string) string {
	parts := []string{"irsa"}
	if cluster != "" {
		parts = append(parts, cluster)
	}
	parts = append(parts, namespace, serviceAccount)
	name := strings.Join(parts, "-")
	name = roleNameUnsafe.ReplaceAllString(name, "-")
	if len(name) <= iamref.MaxRoleNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "-" + hex.EncodeToString(sum[:4])
	return strings.TrimRight(name[:iamref.MaxRoleNameLength-len(suffix)], "-") + suffix
}

var roleNameUnsafe = regexp.MustCompile(`[^\w+=,.@-]`)
