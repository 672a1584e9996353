package plugin_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// TestUnverifiedMigrationShown: a migration interrupted at step "associated" (a live association that takes
// precedence over IRSA, never verified) is shown by list (MIGRATION "migrating (unverified)", a problem: exit 1)
// and by doctor (MigrationUnverified with the command that resumes it), not as a finished "both".
func TestUnverifiedMigrationShown(t *testing.T) {
	tf, roleARN := irsaLinked(t)
	doc := roleTrustDoc(t, tf, "app")
	if _, err := doc.AddPodIdentity(trust.PodIdentityRequest{}); err != nil {
		t.Fatal(err)
	}
	tf.Cloud.IAM.AddRole("", "app", doc.String())
	tf.Cloud.EKS.AddAssociation(plugintest.ClusterName, ns, saName, roleARN)
	b, _ := json.Marshal(setup.MigrationRecord{RoleARN: roleARN, Step: setup.StepAssociated})
	sa, _ := tf.Kube.CoreV1().ServiceAccounts(ns).Get(context.Background(), saName, metav1.GetOptions{})
	sa.Annotations[setup.MigrationAnnotation] = string(b)
	_, _ = tf.Kube.CoreV1().ServiceAccounts(ns).Update(context.Background(), sa, metav1.UpdateOptions{})

	out, errOut, code := tf.Run("list", "-n", ns)
	if code != 1 || !strings.Contains(out, "MIGRATION") || !strings.Contains(out, "migrating (unverified)") || !strings.Contains(errOut, "kubectl irsa migrate "+saName+" -n "+ns) {
		t.Errorf("list: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = tf.Run("doctor", saName, "-n", ns)
	if code != 1 || !strings.Contains(out, "MigrationUnverified") || !strings.Contains(out, "kubectl irsa migrate "+saName+" -n "+ns) {
		t.Errorf("doctor: exit %d\n%s%s", code, out, errOut)
	}

	// Verified: shown as such, no finding.
	b, _ = json.Marshal(setup.MigrationRecord{RoleARN: roleARN, Step: setup.StepVerified})
	sa, _ = tf.Kube.CoreV1().ServiceAccounts(ns).Get(context.Background(), saName, metav1.GetOptions{})
	sa.Annotations[setup.MigrationAnnotation] = string(b)
	_, _ = tf.Kube.CoreV1().ServiceAccounts(ns).Update(context.Background(), sa, metav1.UpdateOptions{})
	if out, _, _ := tf.Run("list", "-n", ns); !strings.Contains(out, "verified (IRSA kept)") || strings.Contains(out, "unverified") {
		t.Errorf("list after verification:\n%s", out)
	}
	if out, _, _ := tf.Run("doctor", saName, "-n", ns); strings.Contains(out, "MigrationUnverified") {
		t.Errorf("doctor after verification:\n%s", out)
	}
}
