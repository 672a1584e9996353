package plugin_test

import (
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
)

// TestRetargetUsage: the scope and the contexts are checked before any client is made (exit 2, one line).
func TestRetargetUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no scope", []string{"--from-context", "blue", "--to-context", "green"}, "-A"},
		{"roles and -A", []string{"--from-context", "blue", "--to-context", "green", "-A", "app"}, "not both"},
		{"same context", []string{"--from-context", "blue", "--to-context", "blue", "-A"}, "same context"},
		{"bad role name", []string{"--from-context", "blue", "--to-context", "green", "bad/name"}, "bad/name"},
		{"bad role ARN", []string{"--from-context", "blue", "--to-context", "green", "arn:aws:iam::1:role/x"}, "role ARN"},
		{"no contexts", []string{"-A"}, "from-context"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tf := plugintest.NewFactory()
			_, errOut, code := tf.Run(append([]string{"retarget"}, tc.args...)...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q: want 2 and %q", code, errOut, tc.want)
			}
			if w := tf.Cloud.Writes(); len(w) != 0 {
				t.Errorf("wrote %v", w)
			}
		})
	}
}
