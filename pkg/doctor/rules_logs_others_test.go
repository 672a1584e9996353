package doctor

import (
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
)

// TestLogFindingsOthers: records of other identities a Collector could not keep apart are said as such, never
// as "more lines like it" of the finding they are counted with (whose summary names one role).
func TestLogFindingsOthers(t *testing.T) {
	col := logclass.Collector{MaxFindings: 2}
	for _, role := range []string{"app1", "app2", "app3", "app4"} {
		col.Add(logclass.Finding{ID: logclass.PermissionMissing, Role: role, Action: "s3:GetObject", Line: 1, Excerpt: "x"})
	}
	fs := LogFindings(col.Findings(), "logs")
	var ev string
	for _, f := range fs {
		ev += strings.Join(f.Evidence, "\n") + "\n"
	}
	if strings.Contains(ev, "more lines like it") || !strings.Contains(ev, "and 2 more lines of this kind about other roles") {
		t.Errorf("evidence:\n%s", ev)
	}
}
