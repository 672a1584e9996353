package identityset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

// Live is what export read of one ServiceAccount with a role (the rows `list` shows, with what belongs to a set
// entry).
type Live struct {
	Namespace, Name string
	// RoleARN is the role the annotation or the association names.
	RoleARN string
	// Mechanism is irsa, pod-identity or both.
	Mechanism string
	// Statements are the ServiceAccount's own statements of the role's kubectl-irsa inline policy (those with its
	// Sids), as read.
	Statements []json.RawMessage
	// ManagedPolicies are the ARNs of the policies attached to the role.
	ManagedPolicies []string
	// PodIdentity holds the association's options (nil when none is set or the mechanism is irsa).
	PodIdentity *PodIdentity
}

// Export builds the IdentitySet named name that says what live says: ServiceAccounts grouped by role, mechanism,
// permissions and Pod Identity options (sorted, so that the same state always gives the same file); a role of
// account (the caller's) by name, with its path when not /, any other by ARN; `allow` when a ServiceAccount's
// statements are exactly one Allow of actions on "*" without condition, else `policy` without the Sids;
// allowAdmin when what exists is administrator-equivalent (so the file says so, and Load accepts it). A
// ServiceAccount whose state a file cannot say (two roles, a statement with a field IAM identity policies do not
// have) is an error naming it: export never writes a smaller set than what exists.
func Export(name, account string, live []Live) (IdentitySet, error) {
	set := IdentitySet{APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: name}, Spec: Spec{Roles: []Role{}}}
	byKey := map[string]int{}
	seen := map[string]string{}
	var problems []string
	for _, l := range sortedLive(live) {
		sa := l.Namespace + "/" + l.Name
		if first, dup := seen[sa]; dup {
			problems = append(problems, fmt.Sprintf("%s has two roles (%s and %s): a set gives a ServiceAccount one role; remove the annotation or the association that is not wanted", sa, first, l.RoleARN))
			continue
		}
		seen[sa] = l.RoleARN
		r, err := entry(l, account)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", sa, err))
			continue
		}
		key, err := json.Marshal(r)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", sa, err))
			continue
		}
		if i, ok := byKey[string(key)]; ok {
			set.Spec.Roles[i].ServiceAccounts = append(set.Spec.Roles[i].ServiceAccounts, sa)
			continue
		}
		byKey[string(key)] = len(set.Spec.Roles)
		r.ServiceAccounts = []string{sa}
		set.Spec.Roles = append(set.Spec.Roles, r)
	}
	problems = append(problems, oneMechanism(set.Spec.Roles)...)
	if len(problems) > 0 {
		return IdentitySet{}, fmt.Errorf("cannot export every ServiceAccount: %s", strings.Join(problems, "; "))
	}
	for i := range set.Spec.Roles {
		set.Spec.Roles[i].AllowAdmin = grantsAdmin(set.Spec.Roles[i])
	}
	return set, nil
}

// oneMechanism names the roles whose ServiceAccounts use them through different mechanisms or Pod Identity
// options: a set gives each role one (the entries of one role must agree), so such a role cannot be exported
// (a migration half done by kubectl irsa migrate leaves one).
func oneMechanism(roles []Role) []string {
	var out []string
	first := map[string]Role{}
	for _, r := range roles {
		key := r.ARN + "name:" + r.Name + r.Path
		f, seen := first[key]
		if !seen {
			first[key] = r
			continue
		}
		if mechanism(f) != mechanism(r) || podIdentity(f) != podIdentity(r) {
			out = append(out, fmt.Sprintf("role %s%s is used by %s (%s) and %s (%s): a set gives a role one mechanism and one set of Pod Identity options; finish the migration (kubectl irsa migrate) or export a namespace with one of them (-n)",
				r.ARN, r.Name, f.ServiceAccounts[0], mechanism(f), r.ServiceAccounts[0], mechanism(r)))
		}
	}
	return out
}

// sortedLive orders ServiceAccounts by role, then namespace and name.
func sortedLive(live []Live) []Live {
	out := slices.Clone(live)
	slices.SortStableFunc(out, func(a, b Live) int {
		return strings.Compare(a.RoleARN+"\x00"+a.Namespace+"/"+a.Name, b.RoleARN+"\x00"+b.Namespace+"/"+b.Name)
	})
	return out
}

// entry is the role entry of one ServiceAccount, without its ServiceAccounts.
func entry(l Live, account string) (Role, error) {
	role, err := iamref.ParseRole(l.RoleARN)
	if err != nil {
		return Role{}, err
	}
	r := Role{ARN: role.ARN}
	if role.Account == account {
		r = Role{Name: role.Name}
		if role.Path != "/" {
			r.Path = role.Path
		}
	}
	if l.Mechanism != MechanismIRSA {
		r.Mechanism = l.Mechanism
		if l.PodIdentity != nil && *l.PodIdentity != (PodIdentity{}) {
			pi := *l.PodIdentity
			r.PodIdentity = &pi
		}
	}
	if len(l.ManagedPolicies) > 0 {
		r.ManagedPolicies = slices.Compact(slices.Sorted(slices.Values(l.ManagedPolicies)))
	}
	statements := make([]Statement, 0, len(l.Statements))
	for i, raw := range l.Statements {
		st, err := statement(raw)
		if err != nil {
			return Role{}, fmt.Errorf("its statement %d %w", i+1, err)
		}
		statements = append(statements, st)
	}
	if actions, ok := allowShape(statements); ok {
		r.Allow = actions
	} else if len(statements) > 0 {
		r.Policy = statements
	}
	return r, nil
}

// statementKeys are the fields an IdentitySet statement has.
var statementKeys = []string{"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}

// statement converts a statement as read into the file's form, without its Sid (apply sets it).
func statement(raw json.RawMessage) (Statement, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Statement{}, fmt.Errorf("is not a JSON object")
	}
	for k := range fields {
		if !slices.Contains(statementKeys, k) {
			return Statement{}, fmt.Errorf("has a field %q an IdentitySet statement cannot hold: edit it on the role or export another namespace", k)
		}
	}
	var st Statement
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&st); err != nil {
		return Statement{}, fmt.Errorf("cannot be read: %v", err)
	}
	st.Sid = ""
	return st, nil
}

// allowShape returns the actions of statements that are exactly what `allow` writes: one Allow of actions on "*"
// without condition; sorted and without duplicates.
func allowShape(statements []Statement) ([]string, bool) {
	if len(statements) != 1 {
		return nil, false
	}
	st := statements[0]
	if st.Effect != "Allow" || len(st.Action) == 0 || len(st.NotAction) > 0 || len(st.NotResource) > 0 || len(st.Condition) > 0 || !slices.Equal(st.Resource, StringList{"*"}) {
		return nil, false
	}
	if slices.ContainsFunc(st.Action, func(a string) bool { return upperService(a) != "" }) {
		return nil, false // allow takes what link --allow takes: services in lower case
	}
	return slices.Compact(slices.Sorted(slices.Values(st.Action))), true
}

// grantsAdmin reports whether an entry grants administrator-equivalent access (what allowAdmin accepts).
func grantsAdmin(r Role) bool {
	if len(r.Allow) > 0 && len(adminGrants([]Statement{allowStatement(r.Allow)})) > 0 || len(adminGrants(r.Policy)) > 0 {
		return true
	}
	return slices.ContainsFunc(r.ManagedPolicies, adminManagedPolicy)
}
