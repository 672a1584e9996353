// Package suggest writes the least-privilege identity policy for the calls a role was denied, from the denial
// messages doctor reads in logs (AccessDenied, UnauthorizedOperation, "is not authorized to perform"): one Allow
// statement per service and resource set, resources exact where the message named them and "*" only where it
// named none. It says what no identity policy can fix (an explicit deny, an SCP or RCP, a permissions boundary,
// a session or VPC endpoint policy) and never adds permissions to a node role.
//
// It is pure: no IO; the policy language (parse, merge, evaluate) is package trust's, this package only reads
// denials and builds new statements.
package suggest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
)

// Denial is one denied call as a denial message gives it.
type Denial struct {
	// Role and Account name the denied caller's role (as printed; the account may be redacted).
	Role, Account string
	// NodeRole is true when the caller is a node's instance role (the pod fell back to it).
	NodeRole bool
	// Action and Resource are as the message gives them; Resource is "" when it named none.
	Action, Resource string
	// Blocked is the kind of policy the message blames.
	Blocked logclass.Blocked
	// Encoded is true when the message carries an encoded authorization message.
	Encoded bool
	// Line is the first log line of the denial; Count the lines merged into it (0 counts as 1).
	Line, Count int
}

// Bounds on what is read and written: a hostile log cannot make the policy or the report grow without limit.
const (
	// MaxCalls bounds the distinct denied calls (action and resource) of a suggestion.
	MaxCalls = 200
	// maxAction and maxResource bound an action and a resource as IAM allows them (an ARN is at most 2048).
	maxAction   = 128
	maxResource = 2048
	// MaxPolicySize is IAM's limit on the aggregate size of a role's inline policies (characters without
	// whitespace).
	MaxPolicySize = 10240
)

// FromFindings returns the denials among doctor's log findings: those naming a role that was denied a call
// (PermissionMissing) or that is a node role (NodeRoleFallback).
func FromFindings(fs []logclass.Finding) []Denial {
	var out []Denial
	for _, f := range fs {
		if f.Role == "" || f.ID != logclass.PermissionMissing && f.ID != logclass.NodeRoleFallback {
			continue
		}
		out = append(out, Denial{Role: f.Role, Account: f.Account, NodeRole: f.ID == logclass.NodeRoleFallback,
			Action: f.Action, Resource: f.Resource, Blocked: f.Blocked, Encoded: f.Encoded, Line: f.Line, Count: f.Count})
	}
	return out
}

// SeveralRolesError: the denials are of several roles and none was chosen.
type SeveralRolesError struct{ Roles []string }

func (e *SeveralRolesError) Error() string {
	return fmt.Sprintf("the log shows denials of %d roles (%s): a policy is suggested for one role at a time", len(e.Roles), strings.Join(e.Roles, ", "))
}

// Roles returns the distinct roles of the denials, sorted (names differing only in case are one role, as in IAM).
func Roles(ds []Denial) []string {
	var out []string
	for _, d := range ds {
		if !slices.ContainsFunc(out, func(r string) bool { return strings.EqualFold(r, d.Role) }) {
			out = append(out, d.Role)
		}
	}
	slices.Sort(out)
	return out
}

// call is one denied call of the role, merged over the lines that show it.
type call struct {
	key     string // lower-cased action and resource: IAM actions ignore case
	d       Denial
	fix     string
	reason  string
	sid     string
	encoded bool
}

// Policy suggests the identity policy of role ("" for the only role of the denials) that allows exactly the
// calls its denials show an identity policy can fix. The result lists every denied call with its fix; its
// Policy is nil when no call can be fixed that way. LinkCommand is left to the caller (it names flags).
func Policy(ds []Denial, role string) (*api.PolicySuggestion, error) {
	roles := Roles(ds)
	if role == "" {
		if len(roles) > 1 {
			return nil, &SeveralRolesError{Roles: roles}
		}
		if len(roles) == 1 {
			role = roles[0]
		}
	}
	res := &api.PolicySuggestion{TypeMeta: api.TypeMeta("PolicySuggestion"), Role: role, Denials: []api.SuggestedDenial{}}
	calls, dropped := mergeCalls(ds, role)
	if len(calls) == 0 {
		res.Notes = append(res.Notes, "no denied call of "+orRole(role)+" was found in the log")
		for _, d := range ds {
			if d.NodeRole {
				res.Notes = append(res.Notes, fmt.Sprintf("the log shows node role %s denied %s: the pod fell back to the node's "+
					"credentials instead of using %s; fix the link, not the node's permissions", d.Role, orAction(d.Action), orRole(role)))
				break
			}
		}
		return res, nil
	}
	res.Account = calls[0].d.Account
	node := slices.ContainsFunc(calls, func(c *call) bool { return c.d.NodeRole })
	encoded := 0
	for _, c := range calls {
		c.fix, c.reason = classify(c.d, node)
		if c.encoded {
			encoded++
		}
	}
	res.Policy = statements(calls)
	for _, fix := range []string{api.FixIdentityPolicy, api.FixOtherPolicy, api.FixDecode, api.FixUnusable, api.FixLink} {
		for _, c := range calls {
			if c.fix == fix {
				res.Denials = append(res.Denials, api.SuggestedDenial{Action: c.d.Action, Resource: c.d.Resource,
					Line: c.d.Line, Count: c.d.Count, Fix: c.fix, Sid: c.sid, Reason: c.reason})
			}
		}
	}
	if node {
		res.Notes = append(res.Notes, fmt.Sprintf("role %s is a node's instance role: the pod fell back to the node's credentials. "+
			"No policy is suggested for it: link the ServiceAccount to its own role (more node permissions would give them to every pod on the node)", role))
	}
	if encoded > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d denied call(s) came with an encoded authorization message, which may name the exact "+
			"resource and condition; it cannot be read without sts:DecodeAuthorizationMessage: "+
			"aws sts decode-authorization-message --encoded-message MESSAGE", encoded))
	}
	if n := countFix(calls, api.FixOtherPolicy); n > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d denied call(s) were decided by a policy other than the role's identity policy: "+
			"no identity policy can fix them (see each call's reason)", n))
	}
	if dropped > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d more denied call(s) beyond the first %d were left out", dropped, MaxCalls))
	}
	if res.Policy != nil {
		if n := Size(res.Policy); n > MaxPolicySize {
			res.Notes = append(res.Notes, fmt.Sprintf("the policy is %d characters, more than the %d IAM allows a role's inline policies: "+
				"put it in a managed policy (--attach-policy-arn) or split it", n, MaxPolicySize))
		}
	}
	return res, nil
}

func orRole(role string) string {
	if role == "" {
		return "any role"
	}
	return "role " + role
}

func orAction(a string) string {
	if a == "" {
		return "a call"
	}
	return a
}

func countFix(calls []*call, fix string) int {
	n := 0
	for _, c := range calls {
		if c.fix == fix {
			n++
		}
	}
	return n
}

// mergeCalls returns the distinct calls of role (actions compared ignoring case, resources exactly), sorted by
// service, action and resource, at most MaxCalls of them, and how many more there were.
func mergeCalls(ds []Denial, role string) ([]*call, int) {
	byKey := map[string]*call{}
	for _, d := range ds {
		if !strings.EqualFold(d.Role, role) {
			continue
		}
		if d.Count < 1 {
			d.Count = 1
		}
		key := strings.ToLower(d.Action) + " " + d.Resource
		c, ok := byKey[key]
		if !ok {
			byKey[key] = &call{key: key, d: d, encoded: d.Encoded}
			continue
		}
		c.d.Count += d.Count
		c.d.NodeRole = c.d.NodeRole || d.NodeRole
		c.encoded = c.encoded || d.Encoded
		if d.Line > 0 && (c.d.Line == 0 || d.Line < c.d.Line) {
			c.d.Line = d.Line
		}
		// A spelling and a blocking policy that do not depend on the order of the lines.
		if d.Action < c.d.Action {
			c.d.Action = d.Action
		}
		if blockedRank(d.Blocked) > blockedRank(c.d.Blocked) {
			c.d.Blocked = d.Blocked
		}
	}
	calls := make([]*call, 0, len(byKey))
	for _, c := range byKey {
		calls = append(calls, c)
	}
	slices.SortFunc(calls, func(a, b *call) int { return strings.Compare(a.key, b.key) })
	if len(calls) > MaxCalls {
		return calls[:MaxCalls], len(calls) - MaxCalls
	}
	return calls, 0
}

// blockedRank orders blocking policies so that the one no identity policy can fix wins when lines disagree.
func blockedRank(b logclass.Blocked) int {
	switch {
	case b.Explicit:
		return 3
	case b.Policy != "" && b.Policy != "identity-based policy" && b.Policy != "resource-based policy":
		return 2
	case b.Policy != "":
		return 1
	}
	return 0
}

// classify returns how a call can be fixed and, unless an identity policy can, why not.
func classify(d Denial, node bool) (fix, reason string) {
	switch {
	case node:
		return api.FixLink, "the caller is a node role: link the ServiceAccount to its own role"
	case d.Action == "" && d.Encoded:
		return api.FixDecode, "only an encoded authorization message names the call: decode it (needs sts:DecodeAuthorizationMessage)"
	case !validAction(d.Action):
		return api.FixUnusable, "the message gives no usable action"
	case d.Resource != "" && !validResource(d.Resource):
		return api.FixUnusable, "the message names a resource that is not an ARN or is cut: write its ARN by hand"
	}
	b := d.Blocked
	switch {
	case b.Explicit && b.Policy == "identity-based policy":
		return api.FixOtherPolicy, "an explicit deny in an identity-based policy of the role (or of its group) blocks it: " +
			"no Allow overrides a Deny, remove or narrow that Deny"
	case b.Explicit:
		return api.FixOtherPolicy, fmt.Sprintf("an explicit deny in a %s blocks it: no identity policy can fix it, %s", b.Policy, owner(b.Policy))
	case b.Policy == "service control policy", b.Policy == "resource control policy", b.Policy == "permissions boundary",
		b.Policy == "session policy", b.Policy == "VPC endpoint policy":
		return api.FixOtherPolicy, fmt.Sprintf("no %s allows it: no identity policy can fix it, %s", b.Policy, owner(b.Policy))
	}
	return api.FixIdentityPolicy, ""
}

// owner says who must change a policy of the kind.
func owner(policy string) string {
	switch policy {
	case "service control policy", "resource control policy":
		return "the organization's " + policy + " must change (its management account)"
	case "permissions boundary":
		return "the role's permissions boundary must allow it"
	case "session policy":
		return "the session policy passed when the role was assumed must allow it"
	case "VPC endpoint policy":
		return "the VPC endpoint's policy must allow it"
	}
	return "the " + policy + " must change"
}

// statements builds the policy: the calls an identity policy fixes, grouped by service, then into one statement
// per set of resources (an action named once with no resource gets "*", which covers its named resources), so
// that no statement allows an action on a resource none of its calls named. Sids name the service.
func statements(calls []*call) *api.PolicyDocument {
	type action struct {
		calls     []*call
		resources []string
	}
	services := map[string]map[string]*action{}
	for _, c := range calls {
		if c.fix != api.FixIdentityPolicy {
			continue
		}
		svc, _, _ := strings.Cut(strings.ToLower(c.d.Action), ":")
		if services[svc] == nil {
			services[svc] = map[string]*action{}
		}
		k := strings.ToLower(c.d.Action)
		a := services[svc][k]
		if a == nil {
			a = &action{}
			services[svc][k] = a
		}
		a.calls = append(a.calls, c)
		r := c.d.Resource
		if r == "" {
			r = "*"
		}
		a.resources = append(a.resources, r)
	}
	if len(services) == 0 {
		return nil
	}
	doc := &api.PolicyDocument{Version: "2012-10-17"}
	for _, svc := range slices.Sorted(maps.Keys(services)) {
		// Actions with the same resources share a statement.
		type group struct {
			resources []string
			actions   []string
			calls     []*call
		}
		var groups []*group
		for _, k := range slices.Sorted(maps.Keys(services[svc])) {
			a := services[svc][k]
			rs := a.resources
			if slices.Contains(rs, "*") {
				rs = []string{"*"}
			}
			slices.Sort(rs)
			rs = slices.Compact(rs)
			i := slices.IndexFunc(groups, func(g *group) bool { return slices.Equal(g.resources, rs) })
			if i < 0 {
				groups = append(groups, &group{resources: rs})
				i = len(groups) - 1
			}
			groups[i].actions = append(groups[i].actions, a.calls[0].d.Action)
			groups[i].calls = append(groups[i].calls, a.calls...)
		}
		for i, g := range groups {
			sid := "Allow" + camel(svc)
			if len(groups) > 1 {
				sid += fmt.Sprintf("Part%d", i+1)
			}
			for _, c := range g.calls {
				c.sid = sid
			}
			doc.Statement = append(doc.Statement, api.PolicyStatement{Sid: sid, Effect: "Allow", Action: g.actions, Resource: g.resources})
		}
	}
	return doc
}

// camel keeps the ASCII letters and digits of s (IAM allows only those in a Sid), upper-casing the first of each run.
func camel(s string) string {
	var b strings.Builder
	up := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			if up {
				c -= 'a' - 'A'
			}
			b.WriteByte(c)
			up = false
		case c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			b.WriteByte(c)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}

// validAction reports whether a is an IAM action: service:Name, the service of lower-case letters, digits and
// '-', the name of letters, digits and '*'.
func validAction(a string) bool {
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" || len(a) > maxAction {
		return false
	}
	for i := 0; i < len(svc); i++ {
		if c := svc[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '*') {
			return false
		}
	}
	return true
}

// validResource reports whether r can be written as a policy's Resource as given: "*" or an ARN of at most
// 2048 printable ASCII characters without spaces, quotes or backslashes (a message cut or escaped in the log is
// not a resource to allow).
func validResource(r string) bool {
	if r == "*" {
		return true
	}
	if len(r) > maxResource || !strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 5 {
		return false
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\' || c == '`' {
			return false
		}
	}
	return !strings.HasSuffix(r, "...")
}

// Size is the policy's length as IAM counts it: compact JSON, no whitespace outside strings.
func Size(doc *api.PolicyDocument) int {
	b, _ := json.Marshal(doc)
	return len(b)
}

// Document is the policy as a file for link --policy-file: indented JSON ending in a newline.
func Document(doc *api.PolicyDocument) ([]byte, error) {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
