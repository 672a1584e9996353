package trust

import (
	"encoding/json"
	"slices"
	"strings"
)

// NamedProviders are the OIDC provider ARNs the document's statements name as Federated principals, once each
// in order.
func (d *Document) NamedProviders() []string {
	var out []string
	for _, raw := range d.Statements {
		st, err := ParseStatement(raw)
		if err != nil {
			continue
		}
		for _, f := range st.Principal.Federated {
			if isOIDCProvider(f) && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// RemoveProviderStatements removes every statement whose only principal is one of the providers (a statement
// that names another principal too is kept: removing it would drop that principal) and returns the removed
// statements. It returns ErrEmptyPolicy, and changes nothing, when no statement would be left.
func (d *Document) RemoveProviderStatements(providerARNs []string) ([]json.RawMessage, error) {
	var kept, removed []json.RawMessage
	for _, raw := range d.Statements {
		st, err := ParseStatement(raw)
		onlyThese := err == nil && !st.Principal.Any && len(st.Principal.AWS) == 0 && len(st.Principal.Service) == 0 &&
			len(st.Principal.Federated) > 0 && !slices.ContainsFunc(st.Principal.Federated, func(f string) bool { return !slices.Contains(providerARNs, f) })
		if onlyThese {
			removed = append(removed, raw)
		} else {
			kept = append(kept, raw)
		}
	}
	if len(removed) > 0 && len(kept) == 0 {
		return nil, ErrEmptyPolicy
	}
	d.Statements = kept
	return removed, nil
}

// RestoreStatements appends the statements that are not in the document (compared compactly): the undo of
// RemoveProviderStatements. It returns how many it added.
func (d *Document) RestoreStatements(statements []json.RawMessage) int {
	n := 0
	for _, s := range statements {
		if !slices.ContainsFunc(d.Statements, func(have json.RawMessage) bool { return compactEqual(have, s) }) {
			d.Statements = append(d.Statements, slices.Clone(s))
			n++
		}
	}
	return n
}

func compactEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

// OtherProvidersListing returns the OIDC providers other than p whose Allow statements list subject: the same
// ServiceAccount (namespace and name) of another cluster sharing the role, which uses the ServiceAccount's
// inline-policy statement too.
func (d *Document) OtherProvidersListing(p Provider, subject string) []string {
	var out []string
	for _, arn := range d.NamedProviders() {
		_, hostPath, ok := strings.Cut(arn, ":oidc-provider/")
		if !ok || arn == p.ARN {
			continue
		}
		if slices.Contains(d.Subjects(Provider{ARN: arn, HostPath: hostPath}), subject) {
			out = append(out, arn)
		}
	}
	return out
}
