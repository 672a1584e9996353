package identityset

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// Validate checks documents as IAM and Kubernetes would, and together: apiVersion and kind, the set's name (a
// DNS-1123 label: it becomes an annotation value and a tag), each role entry (exactly one of name and arn, IAM's
// name and path rules, a parsed ARN, the mechanism, NAMESPACE/NAME ServiceAccounts, actions written
// service:Action, policy statements as IAM validates identity policies, no administrator-equivalent grant without
// allowAdmin, managed policy ARNs, podIdentity only with Pod Identity, allow or policy), a ServiceAccount listed
// once across all documents, and the entries of one role in one set agreeing on what belongs to the role. It
// returns nil or *Problems with every problem.
func Validate(docs []Document) error {
	return validate(docs).orNil()
}

// validate is Validate with its problems as a list.
func validate(docs []Document) Problems {
	v := validator{accounts: map[string]where{}, roles: map[string]roleSeen{}, roleNames: map[string]roleName{}}
	for _, d := range docs {
		v.document(d)
	}
	return v.ps
}

// where is a field of a document, to name the first of two that conflict.
type where struct {
	src   Source
	field string
}

func (w where) String() string {
	return fmt.Sprintf("%s document %d %s", w.src.File, w.src.Index+1, w.field)
}

// roleSeen is the first entry of a role in a set, what later entries of the same role must agree with.
type roleSeen struct {
	at   where
	role Role
}

type validator struct {
	ps Problems
	// accounts maps NAMESPACE/NAME to where it is first listed, across all documents.
	accounts map[string]where
	// roles maps set name + role (name or ARN) to its first entry.
	roles map[string]roleSeen
	// roleNames maps a role name in lower case to its first spelling: IAM role names are case-insensitive.
	roleNames map[string]roleName
}

// roleName is a role name as first written, and where.
type roleName struct {
	name string
	at   where
}

func (v *validator) document(d Document) {
	src, set := d.Source, d.Set
	add := func(field, format string, args ...any) { v.ps.add(src, field, 0, format, args...) }
	switch set.APIVersion {
	case APIVersion:
	case "":
		add("apiVersion", "missing: write apiVersion: %s", APIVersion)
	default:
		add("apiVersion", "%q is not one this version reads (want %s)", truncate(set.APIVersion), APIVersion)
	}
	switch set.Kind {
	case Kind:
	case "":
		add("kind", "missing: write kind: %s", Kind)
	default:
		add("kind", "%q is not %s", truncate(set.Kind), Kind)
	}
	if set.Metadata.Name == "" {
		add("metadata.name", "missing: name the set (it marks what the set owns, the scope of --prune)")
	} else if errs := validation.IsDNS1123Label(set.Metadata.Name); len(errs) > 0 {
		add("metadata.name", "%q is not a DNS-1123 label (it becomes an annotation value and a role tag): %s", truncate(set.Metadata.Name), strings.Join(errs, "; "))
	}
	if set.Spec.Roles == nil {
		add("spec.roles", "missing: list the set's roles (roles: [] for a set that owns nothing)")
	}
	for i, r := range set.Spec.Roles {
		v.role(src, set.Metadata.Name, fmt.Sprintf("spec.roles[%d]", i), r)
	}
}

func (v *validator) role(src Source, setName, p string, r Role) {
	add := func(field, format string, args ...any) { v.ps.add(src, field, 0, format, args...) }
	switch {
	case r.Name == "" && r.ARN == "":
		add(p, "set name (a role of the caller's account) or arn (an existing role)")
	case r.Name != "" && r.ARN != "":
		add(p, "set name or arn, not both")
	case r.Name != "":
		if err := iamref.ValidateRoleName(r.Name); err != nil {
			add(p+".name", "%v", err)
		}
	default:
		if _, err := iamref.ParseRole(r.ARN); err != nil {
			add(p+".arn", "%v", err)
		}
	}
	if r.Path != "" {
		if r.ARN != "" {
			add(p+".path", "path is for a role given by name: an ARN carries its role's path")
		} else if err := iamref.ValidatePath(r.Path); err != nil {
			add(p+".path", "%v", err)
		}
	}
	switch r.Mechanism {
	case "", MechanismIRSA, MechanismPodIdentity, MechanismBoth:
	default:
		add(p+".mechanism", "%q is not a mechanism: write %s, %s or %s", truncate(r.Mechanism), MechanismIRSA, MechanismPodIdentity, MechanismBoth)
	}
	v.serviceAccounts(src, p, r.ServiceAccounts)
	if len(r.Allow) > 0 && len(r.Policy) > 0 {
		add(p, "set allow (actions on every resource) or policy (whole statements), not both")
	}
	if len(r.Allow) > 0 {
		v.allow(src, p+".allow", r.Allow, r.AllowAdmin)
	}
	if len(r.Policy) > 0 {
		v.policy(src, p+".policy", r.Policy, r.AllowAdmin)
	}
	v.managedPolicies(src, p+".managedPolicies", r.ManagedPolicies, r.AllowAdmin)
	if r.PodIdentity != nil {
		if r.Mechanism != MechanismPodIdentity && r.Mechanism != MechanismBoth {
			add(p+".podIdentity", "podIdentity needs mechanism %s or %s", MechanismPodIdentity, MechanismBoth)
		}
		if t := r.PodIdentity.TargetRoleArn; t != "" {
			if _, err := iamref.ParseRole(t); err != nil {
				add(p+".podIdentity.targetRoleArn", "%v", err)
			}
		}
	}
	v.sameRole(src, setName, p, r)
}

// serviceAccounts checks NAMESPACE/NAME (a DNS-1123 label and subdomain, as Kubernetes names them) and that each
// is listed once across all documents.
func (v *validator) serviceAccounts(src Source, p string, sas []string) {
	if len(sas) == 0 {
		v.ps.add(src, p+".serviceAccounts", 0, "list at least one ServiceAccount as NAMESPACE/NAME")
	}
	for i, sa := range sas {
		field := fmt.Sprintf("%s.serviceAccounts[%d]", p, i)
		ns, name, ok := strings.Cut(sa, "/")
		if !ok || strings.Contains(name, "/") {
			v.ps.add(src, field, 0, "%q is not NAMESPACE/NAME", truncate(sa))
			continue
		}
		var bad []string
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			bad = append(bad, fmt.Sprintf("namespace %q: %s", truncate(ns), strings.Join(errs, "; ")))
		}
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			bad = append(bad, fmt.Sprintf("name %q: %s", truncate(name), strings.Join(errs, "; ")))
		}
		if len(bad) > 0 {
			v.ps.add(src, field, 0, "not a Kubernetes ServiceAccount: %s", strings.Join(bad, "; "))
			continue
		}
		if first, dup := v.accounts[sa]; dup {
			v.ps.add(src, field, 0, "ServiceAccount %s is already listed at %s: list each ServiceAccount once across all files", sa, first)
			continue
		}
		v.accounts[sa] = where{src, field}
	}
}

// allow checks each action as IAM does (through trust.ValidateIdentityPolicy, one statement per action so that a
// problem names its action) and refuses administrator-equivalent ones without allowAdmin.
func (v *validator) allow(src Source, p string, actions []string, allowAdmin bool) {
	statements := make([]Statement, len(actions))
	for i, a := range actions {
		statements[i] = Statement{Effect: "Allow", Action: StringList{a}, Resource: StringList{"*"}}
	}
	for i, msgs := range statementProblems(statements) {
		for _, m := range msgs {
			v.ps.add(src, fmt.Sprintf("%s[%d]", p, i), 0, "%s", m)
		}
		if len(msgs) == 0 && upperService(actions[i]) != "" {
			v.ps.add(src, fmt.Sprintf("%s[%d]", p, i), 0, "write the service in lower case: %s (as link --allow takes it)", strings.ToLower(upperService(actions[i]))+actions[i][len(upperService(actions[i])):])
		}
	}
	if !allowAdmin {
		// As apply writes it: one statement with every action.
		for _, g := range adminGrants([]Statement{allowStatement(actions)}) {
			v.ps.add(src, p, 0, "grants administrator-equivalent access: %s; grant only what the workload needs, or set allowAdmin: true", g.Reason)
		}
	}
}

// policy checks statements as IAM validates an identity policy, refuses a Sid (kubectl irsa sets the Sids that mark
// a ServiceAccount's statements) and administrator-equivalent grants without allowAdmin.
func (v *validator) policy(src Source, p string, statements []Statement, allowAdmin bool) {
	for i, msgs := range statementProblems(statements) {
		for _, m := range msgs {
			v.ps.add(src, fmt.Sprintf("%s[%d]", p, i), 0, "%s", m)
		}
	}
	for i, st := range statements {
		if st.Sid != "" {
			v.ps.add(src, fmt.Sprintf("%s[%d].Sid", p, i), 0, "kubectl irsa sets the Sid (it marks the ServiceAccount's statements): remove it")
		}
	}
	if !allowAdmin {
		for _, g := range adminGrants(statements) {
			v.ps.add(src, fmt.Sprintf("%s[%d]", p, g.Index), 0, "grants administrator-equivalent access: %s; grant only what the workload needs, or set allowAdmin: true", g.Reason)
		}
	}
}

// managedPolicies checks the ARNs, duplicates and the AWS managed administrator policies.
func (v *validator) managedPolicies(src Source, p string, arns []string, allowAdmin bool) {
	seen := map[string]bool{}
	for i, a := range arns {
		field := fmt.Sprintf("%s[%d]", p, i)
		pol, err := iamref.ParsePolicy(a)
		switch {
		case err != nil:
			v.ps.add(src, field, 0, "%v", err)
		case seen[a]:
			v.ps.add(src, field, 0, "%s is listed twice", a)
		case !allowAdmin && adminManagedPolicy(a):
			v.ps.add(src, field, 0, "%s is an AWS managed administrator policy; attach one that grants only what the workload needs, or set allowAdmin: true", pol.Name)
		}
		seen[a] = true
	}
}

// upperService returns the service prefix of an action when it has upper-case letters ("" otherwise): IAM
// ignores the case, link --allow and apply take them in lower case.
func upperService(action string) string {
	service, _, ok := strings.Cut(action, ":")
	if ok && service != strings.ToLower(service) {
		return service
	}
	return ""
}

// allowStatement is the statement `allow` stands for: one Allow of the actions on every resource.
func allowStatement(actions []string) Statement {
	return Statement{Effect: "Allow", Action: actions, Resource: StringList{"*"}}
}

// adminManagedPolicy reports whether arn is an AWS managed administrator policy (trust.AdminManagedPolicies).
func adminManagedPolicy(arn string) bool {
	p, err := iamref.ParsePolicy(arn)
	return err == nil && p.Account == "aws" && slices.Contains(trust.AdminManagedPolicies, p.Name)
}

// sameRole checks that the entries of one role (same name or same ARN) in one set agree on what belongs to the
// role rather than to a ServiceAccount: mechanism, path, managed policies and podIdentity.
func (v *validator) sameRole(src Source, setName, p string, r Role) {
	key := r.ARN
	if key == "" {
		key = "name:" + r.Name
	}
	if r.Name == "" && r.ARN == "" {
		return
	}
	if r.Name != "" {
		lower := strings.ToLower(r.Name) // unique in the account whatever the path
		if first, ok := v.roleNames[lower]; !ok {
			v.roleNames[lower] = roleName{name: r.Name, at: where{src, p}}
		} else if first.name != r.Name {
			v.ps.add(src, p+".name", 0, "%q and %q (%s) name one role: IAM role names are case-insensitive; write it one way", r.Name, first.name, first.at)
		}
	}
	key = setName + "\x00" + key
	first, seen := v.roles[key]
	if !seen {
		v.roles[key] = roleSeen{at: where{src, p}, role: r}
		return
	}
	var differ []string
	if mechanism(first.role) != mechanism(r) {
		differ = append(differ, fmt.Sprintf("mechanism %s, not %s", mechanism(first.role), mechanism(r)))
	}
	if rolePath(first.role) != rolePath(r) {
		differ = append(differ, fmt.Sprintf("path %s, not %s", rolePath(first.role), rolePath(r)))
	}
	if !sameSet(first.role.ManagedPolicies, r.ManagedPolicies) {
		differ = append(differ, "other managedPolicies")
	}
	if podIdentity(first.role) != podIdentity(r) {
		differ = append(differ, "another podIdentity")
	}
	if len(differ) > 0 {
		v.ps.add(src, p, 0, "this role is also at %s with %s: entries of one role must agree on mechanism, path, managedPolicies and podIdentity", first.at, strings.Join(differ, ", "))
	}
}

// mechanism is the entry's mechanism, irsa when not set.
func mechanism(r Role) string {
	if r.Mechanism == "" {
		return MechanismIRSA
	}
	return r.Mechanism
}

// rolePath is the entry's path, / when not set.
func rolePath(r Role) string {
	if r.Path == "" {
		return "/"
	}
	return r.Path
}

func podIdentity(r Role) PodIdentity {
	if r.PodIdentity == nil {
		return PodIdentity{}
	}
	return *r.PodIdentity
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// policyDocument is the identity policy of statements, as IAM would receive it.
func policyDocument(statements []Statement) string {
	b, err := json.Marshal(map[string]any{"Version": trust.Version, "Statement": statements})
	if err != nil {
		panic(err) // strings, lists and decoded YAML scalars only: cannot fail
	}
	return string(b)
}

// statementProblems validates statements as IAM validates an identity policy (trust.ValidateIdentityPolicy) and
// returns the problems of each statement by its index.
func statementProblems(statements []Statement) [][]string {
	out := make([][]string, len(statements))
	for _, m := range trust.ValidateIdentityPolicy(policyDocument(statements)) {
		var n int
		if _, err := fmt.Sscanf(m, "statement %d: ", &n); err == nil && n >= 1 && n <= len(statements) {
			_, msg, _ := strings.Cut(m, ": ")
			out[n-1] = append(out[n-1], msg)
			continue
		}
		out[0] = append(out[0], m) // not about one statement: cannot happen for a non-empty document built here
	}
	return out
}

// adminGrants are the administrator-equivalent statements (trust.AdminGrants' rule), each checked alone so that
// a statement IAM would refuse (reported by statementProblems) does not hide another's grant.
func adminGrants(statements []Statement) []trust.AdminGrant {
	var out []trust.AdminGrant
	for i, st := range statements {
		doc, err := trust.Parse(policyDocument([]Statement{st}))
		if err != nil {
			continue // statementProblems reports why
		}
		for _, g := range doc.AdminGrants() {
			g.Index = i
			out = append(out, g)
		}
	}
	return out
}
