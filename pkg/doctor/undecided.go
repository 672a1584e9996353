package doctor

import (
	"fmt"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// TrustUndecided: the trust policy's answer for the ServiceAccount depends on condition keys or operators the
// local evaluation does not model (aws:SourceIp, ...). It is a note, not a mismatch: STS decides, and
// `kubectl irsa test` asks it.
const TrustUndecided = "TrustUndecided"

// undecidedTrust is the note for a trust evaluation that CannotTell.
func undecidedTrust(roleName string, sa ServiceAccount, ev trust.Evaluation) Finding {
	subject := trust.Subject(sa.Namespace, sa.Name)
	keys := "unmodelled conditions"
	if len(ev.UnknownKeys) > 0 {
		keys = strings.Join(ev.UnknownKeys, ", ")
	}
	var evidence []string
	for _, sr := range ev.Statements {
		for _, cr := range sr.Conditions {
			if cr.Unknown {
				evidence = append(evidence, fmt.Sprintf("statement %d: %s %s expects %v: not known before the request reaches STS", sr.Index, cr.Operator, cr.Key, cr.Expected))
			}
		}
	}
	return Finding{ID: TrustUndecided, Severity: Info, Check: "iam", Target: "role/" + roleName,
		Summary:  fmt.Sprintf("whether role %s's trust admits %s depends on %s, which kubectl irsa does not evaluate", roleName, subject, keys),
		Evidence: evidence,
		Fix:      fmt.Sprintf("kubectl irsa test %s -n %s (STS decides)", sa.Name, sa.Namespace)}
}
