package plugin_test

import (
	"strings"
	"testing"
)

// TestUnlinkLastSubjectNamesTheCommand: unlinking a role's last subject says exactly which command removes it,
// and that command works; for a role kubectl irsa did not create it names the way round.
func TestUnlinkLastSubjectNamesTheCommand(t *testing.T) {
	tf := seed()
	if _, errOut, code := tf.Run("link", saName, "-n", ns, "--role-name", "r", "--allow", "s3:GetObject"); code != 0 {
		t.Fatal(errOut)
	}
	_, errOut, code := tf.Run("unlink", saName, "-n", ns)
	want := "kubectl irsa unlink " + saName + " -n " + ns + " --delete-role"
	if code == 0 || !strings.Contains(errOut, want) || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q: want one line naming %q", code, errOut, want)
	}
	if _, errOut, code := tf.Run(strings.Fields(want)[2:]...); code != 0 {
		t.Fatalf("the named command failed: exit %d: %s", code, errOut)
	}
	if tf.Cloud.IAM.Trust("r") != "" || annotation(t, tf, ns, saName) != "" {
		t.Error("the named command left the role or the annotation")
	}

	hand, _ := linked() // irsa-role: not created by kubectl irsa
	_, errOut, _ = hand.Run("unlink", saName, "-n", ns)
	if !strings.Contains(errOut, "did not create role irsa-role") || strings.Contains(errOut, "--delete-role") {
		t.Errorf("unmanaged role: stderr %q", errOut)
	}
}
