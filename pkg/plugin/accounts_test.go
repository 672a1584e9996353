package plugin_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
)

const otherAccountRole = "arn:aws:iam::222222222222:role/irsa-role"

// crossAccount is the seed ServiceAccount annotated with a role of account 222222222222 while the caller's
// account has a role of the same name that trusts it: that role must never be read or written as the other.
func crossAccount() *plugintest.Factory {
	tf := plugintest.NewFactory(plugintest.Namespace(ns), plugintest.ServiceAccount(ns, saName, map[string]string{iamref.RoleARNAnnotation: otherAccountRole}))
	tf.Cloud.IAM.AddRole("", "irsa-role", trusting(subject))
	tf.Cloud.IAM.AddProvider(plugintest.HostPath, iamref.DefaultAudience)
	return tf
}

func TestLinkOtherAccountWithoutProfileRefused(t *testing.T) {
	tf := crossAccount()
	before := tf.Cloud.IAM.Trust("irsa-role")
	_, errOut, code := tf.Run("link", "other", "-n", ns, "--create-service-account", "--role-arn", otherAccountRole)
	if code == 0 || !strings.Contains(errOut, "account 222222222222") || !strings.Contains(errOut, "--role-profile") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("exit %d: %q", code, errOut)
	}
	if w := tf.Cloud.Writes(); len(w) != 0 || tf.Cloud.IAM.Trust("irsa-role") != before {
		t.Errorf("writes %v; trust now %s", w, tf.Cloud.IAM.Trust("irsa-role"))
	}
}

func TestLinkOtherAccountWithProfileUsesItsIAM(t *testing.T) {
	tf := crossAccount()
	tf.RoleCloud, tf.RoleAccount = fakeaws.New(), "222222222222"
	before := tf.Cloud.IAM.Trust("irsa-role")
	_, _, _ = tf.Run("link", "other", "-n", ns, "--create-service-account", "--role-arn", otherAccountRole, "--role-profile", "other")
	if w := tf.Cloud.Writes(); len(w) != 0 || tf.Cloud.IAM.Trust("irsa-role") != before {
		t.Errorf("the caller's account was written: %v", w)
	}
	if c := tf.RoleCloud.Calls(); len(c) == 0 || !strings.Contains(strings.Join(c, " "), "GetRole") {
		t.Errorf("the role's account was not read: %v", c)
	}
}

func TestReadOtherAccountWithoutProfileCouldNotCheck(t *testing.T) {
	for _, args := range [][]string{{"doctor", saName, "-n", ns, "-o", "json"}, {"list", "-n", ns, "-o", "json"}} {
		tf := crossAccount()
		out, errOut, code := tf.Run(args...)
		if code != 2 || !strings.Contains(out, "could not check role irsa-role in account 222222222222") || !strings.Contains(out, "--role-profile") {
			t.Errorf("%v: exit %d: %s %s", args, code, out, errOut)
		}
		if strings.Contains(out, "does not exist") || strings.Contains(out, doctor.RoleMissing) || strings.Contains(out, doctor.TrustMismatch) {
			t.Errorf("%v: a role that could not be read was judged: %s", args, out)
		}
	}
}

// TestTestOtherAccountAsksSTS: without --role-profile the role is not read, STS decides: a pass it proved is
// exit 0, the unread role a note (issue 20 item 7).
func TestTestOtherAccountAsksSTS(t *testing.T) {
	tf := crossAccount()
	out, errOut, code := tf.Run("test", saName, "-n", ns, "-o", "json")
	if code != 0 || strings.Contains(out, `"couldNotCheck"`) || !strings.Contains(out, `"sts": "ok"`) || !strings.Contains(out, "could not check role irsa-role in account 222222222222") || !strings.Contains(out, `"verdict": "pass"`) {
		t.Errorf("exit %d: %s %s", code, out, errOut)
	}
	if calls := strings.Join(tf.Cloud.Calls(), " "); !strings.Contains(calls, "AssumeRoleWithWebIdentity") {
		t.Errorf("STS not asked: %s", calls)
	}
}

// TestSameAccountReadsNoCallerIdentity: a role of the caller's account that exists is read with no
// sts:GetCallerIdentity; one that is missing costs exactly one, cached, before "does not exist" is said.
func TestSameAccountReadsNoCallerIdentity(t *testing.T) {
	tf, _ := linked()
	if _, errOut, code := tf.Run("list", "-n", ns, "-o", "json"); code != 0 || slices.Contains(tf.Cloud.Calls(), "GetCallerIdentity") {
		t.Errorf("exit %d, calls %v: %s", code, tf.Cloud.Calls(), errOut)
	}
	tf = plugintest.NewFactory(plugintest.Namespace(ns),
		plugintest.ServiceAccount(ns, "a", map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + fakeaws.Account + ":role/gone-a"}),
		plugintest.ServiceAccount(ns, "b", map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + fakeaws.Account + ":role/gone-b"}))
	out, _, code := tf.Run("doctor", "-n", ns, "-o", "json")
	n := 0
	for _, c := range tf.Cloud.Calls() {
		if c == "GetCallerIdentity" {
			n++
		}
	}
	if code != 1 || n != 1 || !strings.Contains(out, "gone-a does not exist") || strings.Contains(out, "could not check") {
		t.Errorf("exit %d, %d GetCallerIdentity in %v: %s", code, n, tf.Cloud.Calls(), out)
	}
}

// TestLinkRoleNameWithProfileCreatesThere: --role-name with --role-profile creates the role (and the OIDC
// provider) in the profile's account and annotates with that account's ARN; the caller's account is not written.
func TestLinkRoleNameWithProfileCreatesThere(t *testing.T) {
	tf := crossAccount()
	tf.RoleCloud, tf.RoleAccount = fakeaws.New(), "222222222222"
	out, errOut, code := tf.Run("link", "other", "-n", ns, "--create-service-account", "--role-name", "shared", "--role-profile", "other")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if w := tf.Cloud.Writes(); len(w) != 0 {
		t.Errorf("the caller's account was written: %v", w)
	}
	if tf.RoleCloud.IAM.Trust("shared") == "" || !strings.Contains(strings.Join(tf.RoleCloud.Writes(), " "), "CreateOpenIDConnectProvider") {
		t.Errorf("role or provider not created in 222222222222: %v", tf.RoleCloud.Writes())
	}
	// The plan names the role in the profile's account (the fake IAM answers every ARN in one account, so the
	// created role's ARN is checked in the sandbox test with a real second account).
	if !strings.Contains(out, "arn:aws:iam::222222222222:role/shared") {
		t.Errorf("plan does not name the role in 222222222222:\n%s", out)
	}
}
