package trust

import (
	"maps"
	"slices"
	"strings"
)

// Grant is what the Allow statements naming one OIDC provider admit for one audience: exact ServiceAccount
// subjects, and subject patterns (a wildcard under a Like operator, or no sub condition at all) that an exact
// statement cannot copy.
type Grant struct {
	Audience string   `json:"audience"`
	Subjects []string `json:"subjects,omitempty"`
	Patterns []string `json:"patterns,omitempty"`
}

// AnySubject stands for a statement that names the provider without any sub condition: every ServiceAccount
// of the cluster.
const AnySubject = "(any ServiceAccount: no sub condition)"

// Grants lists, per audience (sorted), what the Allow statements naming provider p admit through positive
// conditions (StringEquals, StringLike, ...): the statements a new cluster's issuer must mirror. A statement
// without an aud condition counts for DefaultAudience. Deny statements and negated operators are left out.
func (d *Document) Grants(p Provider) []Grant {
	byAud := map[string]*Grant{}
	for _, raw := range d.Statements {
		st, err := ParseStatement(raw)
		if err != nil || st.Effect != "Allow" || !slices.Contains(st.Principal.Federated, p.ARN) {
			continue
		}
		var auds, subs, patterns []string
		for op, keys := range st.Condition {
			if strings.Contains(op, "Not") || strings.HasSuffix(op, "Null") {
				continue
			}
			like := strings.Contains(op, "Like")
			for key, values := range keys {
				switch {
				case strings.EqualFold(key, p.HostPath+":aud"):
					auds = append(auds, values...)
				case strings.EqualFold(key, p.HostPath+":sub"):
					for _, v := range values {
						if like && HasWildcard(v) {
							patterns = append(patterns, v)
						} else {
							subs = append(subs, v)
						}
					}
				}
			}
		}
		if len(subs)+len(patterns) == 0 {
			patterns = append(patterns, AnySubject)
		}
		if len(auds) == 0 {
			auds = []string{DefaultAudience}
		}
		for _, aud := range auds {
			g := byAud[aud]
			if g == nil {
				g = &Grant{Audience: aud}
				byAud[aud] = g
			}
			g.Subjects = append(g.Subjects, subs...)
			g.Patterns = append(g.Patterns, patterns...)
		}
	}
	out := make([]Grant, 0, len(byAud))
	for _, aud := range slices.Sorted(maps.Keys(byAud)) {
		g := byAud[aud]
		slices.Sort(g.Subjects)
		slices.Sort(g.Patterns)
		g.Subjects, g.Patterns = slices.Compact(g.Subjects), slices.Compact(g.Patterns)
		out = append(out, *g)
	}
	return out
}

// OwnSubjects are the subjects of kubectl irsa's own statement for provider p and audience (nil when there is
// none, or when a hand-edited statement carries its Sid).
func (d *Document) OwnSubjects(p Provider, audience string) []string {
	_, subs, err := d.ownIndex(p, audience)
	if err != nil {
		return nil
	}
	return subs
}
