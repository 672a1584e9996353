package report

import "slices"

// Severity of a finding.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
	// Audit's severities.
	High   Severity = "high"
	Medium Severity = "medium"
	Low    Severity = "low"
)

// Finding is one diagnosed problem.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	// Check groups findings for people: logs, serviceaccount, pod, iam, cluster.
	Check    string   `json:"check"`
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence,omitempty"`
	Fix      string   `json:"fix,omitempty"`
	// Target is what the finding is about: serviceaccount/NS/NAME, pod/NS/NAME, role/NAME, cluster.
	Target string `json:"target"`
}

// Merge joins findings with the same id and target (say, NoOIDCProvider from logs and from IAM) and sorts them:
// errors first, then warnings, then info, each in the order found.
func Merge(fs []Finding) []Finding {
	type key struct{ id, target string }
	var out []Finding
	index := map[key]int{}
	seen := map[key]map[string]bool{}
	for _, f := range fs {
		k := key{f.ID, f.Target}
		i, ok := index[k]
		if !ok {
			index[k] = len(out)
			seen[k] = map[string]bool{}
			for _, e := range f.Evidence {
				seen[k][e] = true
			}
			out = append(out, f)
			continue
		}
		for _, e := range f.Evidence {
			if !seen[k][e] {
				seen[k][e] = true
				out[i].Evidence = append(out[i].Evidence, e)
			}
		}
		if rank(f.Severity) < rank(out[i].Severity) {
			out[i].Severity = f.Severity
		}
		if out[i].Fix == "" {
			out[i].Fix = f.Fix
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return rank(a.Severity) - rank(b.Severity) })
	return out
}

func rank(s Severity) int {
	switch s {
	case Error, High:
		return 0
	case Warning, Medium:
		return 1
	}
	return 2
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Severity == Error })
}
