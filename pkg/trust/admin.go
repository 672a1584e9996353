package trust

import (
	"fmt"
	"slices"
	"strings"
)

// EscalationActions are the actions that let whoever holds them on every resource give itself any other
// permission, or become another principal: an identity policy that allows one of them on every resource is as
// good as administrator access. The list is the rule AdminGrants applies, so that `iam:*`, `iam:*Policy*`,
// `iam:Put*`, `sts:*` or `organizations:*` are caught by what they match and `iam:Get*` or `organizations:List*`
// are not.
var EscalationActions = []string{
	// IAM: write or attach a policy to a role, user or group (its own role included), or replace a trust.
	"iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutUserPolicy", "iam:AttachUserPolicy",
	"iam:PutGroupPolicy", "iam:AttachGroupPolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion",
	"iam:UpdateAssumeRolePolicy", "iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary",
	"iam:AddUserToGroup",
	// IAM: make credentials for another user, or hand any role to a service that runs code.
	"iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:PassRole",
	// STS: become any role that trusts the account.
	"sts:AssumeRole",
	// Organizations: lift the service control policies that bound the account.
	"organizations:DetachPolicy", "organizations:UpdatePolicy", "organizations:DeletePolicy",
	"organizations:DisablePolicyType", "organizations:LeaveOrganization",
}

// AdminManagedPolicies are the AWS managed policies whose documents AdminGrants finds administrator-equivalent
// (AdministratorAccess: "*"; IAMFullAccess: "iam:*"; PowerUserAccess: Allow with NotAction on "*").
var AdminManagedPolicies = []string{"AdministratorAccess", "IAMFullAccess", "PowerUserAccess"}

// AdminGrant is one Allow statement of an identity policy that grants administrator-equivalent access.
type AdminGrant struct {
	// Index is the statement's position (0-based), Sid its Sid ("" when none).
	Index int
	Sid   string
	// Reason says what the statement allows, for a person: `"*" on every resource`.
	Reason string
}

// String names the statement and its reason: `statement 1 (Sid "All") allows "*" on every resource`.
func (g AdminGrant) String() string {
	name := fmt.Sprintf("statement %d", g.Index+1)
	if g.Sid != "" {
		name += fmt.Sprintf(" (Sid %q)", g.Sid)
	}
	return name + " allows " + g.Reason
}

// AdminGrants returns the statements of an identity policy that grant administrator-equivalent access. The
// rule, per Allow statement (conditions are not read: a condition limits when, not what is granted; a Deny
// elsewhere does not offset the grant: both are easily loosened later, and the rule must be one a person can
// check):
//   - Action: one of its patterns matches an action of EscalationActions (so "*", "*:*", "iam:*", "sts:*",
//     "organizations:*", "iam:*Policy*" and a plain "iam:PassRole" all count) and its resources are every
//     resource of that action: Resource "*", any NotResource, or an ARN pattern whose service is that action's
//     resource service (iam for iam and sts, organizations) or only wildcards, and whose resource part, after an
//     optional TYPE/ prefix, is only wildcards (arn:aws:iam::*:role/* counts; arn:aws:iam::*:role/app-* does not);
//   - NotAction: it allows every action of every service except those named, including those AWS adds later,
//     on Resource "*" (or an ARN pattern that is only wildcards past arn:PARTITION), or with NotResource.
//
// Statements that do not parse are skipped (validation reports them).
func (d *Document) AdminGrants() []AdminGrant {
	var out []AdminGrant
	for i, raw := range d.Statements {
		st, err := ParseStatement(raw)
		if err != nil || st.Effect != "Allow" {
			continue
		}
		g := AdminGrant{Index: i, Sid: st.Sid}
		switch {
		case len(st.NotAction) > 0:
			if slices.ContainsFunc(st.NotAction, onlyWildcards) || !everyResource(st, "") {
				continue // all but everything grants nothing
			}
			g.Reason = fmt.Sprintf("every action except %s on every resource (Allow with NotAction)", strings.Join(st.NotAction, ", "))
		default:
			pattern, action, ok := escalation(st)
			if !ok {
				continue
			}
			g.Reason = fmt.Sprintf("%q on every resource", pattern)
			if !strings.EqualFold(pattern, action) {
				g.Reason += " (it covers " + action + ")"
			}
		}
		out = append(out, g)
	}
	return out
}

// escalation returns the first action pattern that matches an escalation action on every resource of it, and
// that action.
func escalation(st Statement) (pattern, action string, ok bool) {
	for _, p := range st.Action {
		for _, a := range EscalationActions {
			if wildcardMatch(p, a, true) && everyResource(st, resourceService(a)) {
				return p, a, true
			}
		}
	}
	return "", "", false
}

// resourceService is the service of the ARNs an action acts on: sts:AssumeRole acts on IAM roles.
func resourceService(action string) string {
	service, _, _ := strings.Cut(strings.ToLower(action), ":")
	if service == "sts" {
		return "iam"
	}
	return service
}

// everyResource reports whether a statement applies to every resource of service ("" for every service):
// NotResource (all but some), "*", or an ARN pattern whose service is service or only wildcards and whose
// resource part, after an optional TYPE/ prefix, is only wildcards.
func everyResource(st Statement, service string) bool {
	if len(st.NotResource) > 0 {
		return true
	}
	serviceOK := func(s string) bool { return onlyWildcards(s) || service != "" && strings.EqualFold(s, service) }
	for _, r := range st.Resource {
		if onlyWildcards(r) {
			return true
		}
		parts := strings.SplitN(r, ":", 6)
		if len(parts) < 6 {
			// arn:aws:* or arn:aws:iam:*: a trailing * spans the colons.
			if onlyWildcards(parts[len(parts)-1]) && (len(parts) < 3 || serviceOK(parts[2])) {
				return true
			}
			continue
		}
		if !serviceOK(parts[2]) {
			continue
		}
		res := parts[5]
		if i := strings.IndexByte(res, '/'); i >= 0 {
			res = res[i+1:]
		}
		if onlyWildcards(res) {
			return true
		}
	}
	return false
}

func onlyWildcards(s string) bool {
	return s != "" && strings.Trim(s, "*") == ""
}
