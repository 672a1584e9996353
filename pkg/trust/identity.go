package trust

import "slices"

// IdentityPolicy is one identity-based (permission) policy of a role: inline or managed, named for reports.
type IdentityPolicy struct {
	Name string
	Doc  *Document
}

// IdentityEvaluation is the outcome of a role's identity-based policies for one action.
type IdentityEvaluation struct {
	// Verdict: Admits when an Allow certainly covers the action and no Deny may; Refuses when a Deny certainly
	// covers it, or nothing may allow it (the implicit deny); CannotTell otherwise.
	Verdict Verdict `json:"verdict"`
	// DeniedBy names the policies with a Deny that certainly (or, when the verdict is CannotTell, may) cover it.
	DeniedBy []string `json:"deniedBy,omitempty"`
	// AllowedBy names the policies with an Allow that certainly covers it.
	AllowedBy []string `json:"allowedBy,omitempty"`
	// Undecided names the policies with a statement (Allow or Deny) whose match depends on UnknownKeys.
	Undecided []string `json:"undecided,omitempty"`
	// UnknownKeys are the condition keys (or "Resource") the verdict CannotTell depends on, sorted.
	UnknownKeys []string `json:"unknownKeys,omitempty"`
}

// EvaluateIdentity decides, as IAM would within one account, whether a role's identity-based policies let it
// call action on resource (an ARN, "" when unknown): an explicit Deny in any policy wins over every Allow,
// Action and NotAction are matched with wildcards and without case, Resource and NotResource with wildcards.
// Condition keys are not known (the request context is not modelled), so a statement with conditions is
// undecided and can only make the verdict CannotTell. Permissions boundaries, SCPs and session policies are
// not seen: an Admits verdict means the role's own policies allow it.
func EvaluateIdentity(action, resource string, policies ...IdentityPolicy) IdentityEvaluation {
	var all Document
	var owner []string
	for _, p := range policies {
		if p.Doc == nil {
			continue
		}
		all.Statements = append(all.Statements, p.Doc.Statements...)
		for range p.Doc.Statements {
			owner = append(owner, p.Name)
		}
	}
	ev := all.evaluate(request{action: action, identity: true, resource: resource,
		principal: func(Principal) bool { return true },
		lookup:    func(string) (string, keyState) { return "", keyUnknown }})
	out := IdentityEvaluation{Verdict: ev.Verdict, UnknownKeys: ev.UnknownKeys}
	for _, r := range ev.Statements {
		if r.Undecided && ev.Verdict == CannotTell {
			out.Undecided = append(out.Undecided, owner[r.Index])
		}
		switch {
		case r.Effect == "Deny" && (r.Matches || r.Undecided && ev.Verdict == CannotTell):
			out.DeniedBy = append(out.DeniedBy, owner[r.Index])
		case r.Effect == "Allow" && r.Matches:
			out.AllowedBy = append(out.AllowedBy, owner[r.Index])
		}
	}
	out.DeniedBy = slices.Compact(out.DeniedBy)
	out.AllowedBy = slices.Compact(out.AllowedBy)
	slices.Sort(out.Undecided)
	out.Undecided = slices.Compact(out.Undecided)
	return out
}
