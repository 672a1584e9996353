package plugin_test

import (
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
)

// hostileARN is an annotation value whoever can annotate a ServiceAccount may write: escape sequences, a
// right-to-left override and 100 KB.
var hostileARN = "arn:aws:iam::123456789012:role/\x1b]0;owned\x07\x1b[2J\u202e" + strings.Repeat("A", 100<<10)

// TestCompletionEscapesAndCutsAnnotations: completion descriptions show annotation values escaped and cut.
func TestCompletionEscapesAndCutsAnnotations(t *testing.T) {
	tf := plugintest.NewFactory(plugintest.Namespace(ns), plugintest.ServiceAccount(ns, "evil", map[string]string{iamref.RoleARNAnnotation: hostileARN}))
	out, _, _ := tf.Run("__complete", "link", "-n", ns, "ev")
	if strings.ContainsAny(out, "\x1b\x07\u202e") || len(out) > 1024 || !strings.Contains(out, `\x1b]0;owned`) || !strings.Contains(out, "…") {
		t.Errorf("completion output (%d bytes): %.300q", len(out), out)
	}
}

// TestListCutsHugeAnnotations: list's table neither pads every row to a 100 KB annotation value nor prints it
// whole.
func TestListCutsHugeAnnotations(t *testing.T) {
	tf := plugintest.NewFactory(plugintest.Namespace(ns),
		plugintest.ServiceAccount(ns, "evil", map[string]string{iamref.RoleARNAnnotation: hostileARN}),
		plugintest.ServiceAccount(ns, "good", map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::123456789012:role/good"}))
	out, errOut, _ := tf.Run("list", "-n", ns, "-o", "wide")
	if len(out) > 4096 || strings.ContainsAny(out, "\x1b\x07\u202e") || !strings.Contains(out, "good") {
		t.Errorf("list output (%d bytes): %.600q\n%s", len(out), out, errOut)
	}
}
