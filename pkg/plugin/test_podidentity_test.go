package plugin_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/eksauth"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
)

const (
	piGoodTrust  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
	piNoTagTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

// associated is the seed ServiceAccount (no annotation) with a Pod Identity association to role pi-role.
func associated(trustDoc string) *plugintest.Factory {
	tf := seed()
	if trustDoc != "" {
		tf.Cloud.IAM.AddRole("", "pi-role", trustDoc)
	}
	tf.Cloud.EKS.Associations = []ekstypes.PodIdentityAssociation{{AssociationId: aws.String("a-0123456789abcdefg"), Namespace: aws.String(ns), ServiceAccount: aws.String(saName),
		RoleArn: aws.String("arn:aws:iam::" + fakeaws.Account + ":role/pi-role")}}
	return tf
}

func TestTestPodIdentity(t *testing.T) {
	tf := associated(piGoodTrust)
	out, errOut, code := tf.Run("test", saName, "-n", ns)
	if code != 0 || !strings.Contains(out, "PASS") || !strings.Contains(out, "eks-auth:AssumeRoleForPodIdentity: ok") ||
		!strings.Contains(out, "assumed: arn:aws:sts::"+fakeaws.Account+":assumed-role/pi-role/") || !strings.Contains(out, "kubernetes-service-account="+saName) {
		t.Errorf("good association: exit %d\n%s%s", code, out, errOut)
	}
	for _, secret := range []string{"ASIAFAKEPODIDENTITY", "pod-identity-secret", "pod-identity-session-token", "eyJ"} {
		if strings.Contains(out+errOut, secret) {
			t.Errorf("output shows %q", secret)
		}
	}
	out, _, code = tf.Run("test", saName, "-n", ns, "-o", "json")
	var res inspect.TestResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Mechanism != "pod-identity" || res.PodIdentity == nil || res.PodIdentity.AssociationID != "a-0123456789abcdefg" {
		t.Errorf("json: exit %d %s", code, out)
	}

	for name, tc := range map[string]struct {
		trust, finding string
	}{
		"role missing":             {"", "PodIdentityRoleMissing"},
		"trust without TagSession": {piNoTagTrust, "PodIdentityTrustInvalid"},
	} {
		_, errOut, code := associated(tc.trust).Run("test", saName, "-n", ns)
		if code != 1 || !strings.Contains(errOut, tc.finding) {
			t.Errorf("%s: exit %d, %s", name, code, errOut)
		}
	}

	tf = associated(piGoodTrust)
	tf.Cloud.Fail("AssumeRoleForPodIdentity", &eksauth.Error{StatusCode: 403, Code: eksauth.AccessDenied, Message: "not authorized to perform: eks-auth:AssumeRoleForPodIdentity"})
	out, errOut, code = tf.Run("test", saName, "-n", ns)
	if code != 2 || !strings.Contains(out, "NOT PROVEN") || !strings.Contains(errOut, "not proven end to end") {
		t.Errorf("caller denied EKS Auth: exit %d\n%s%s", code, out, errOut)
	}
	tf = associated(piNoTagTrust)
	tf.Cloud.Fail("AssumeRoleForPodIdentity", &eksauth.Error{StatusCode: 403, Code: eksauth.AccessDenied, Message: "denied"})
	if _, errOut, code := tf.Run("test", saName, "-n", ns); code != 1 || !strings.Contains(errOut, "PodIdentityTrustInvalid") {
		t.Errorf("denied with a broken trust: exit %d, %s", code, errOut)
	}
}

// TestTestIRSAWhenAssociationsUnreadable: a caller that may not list associations still tests IRSA, but an
// association it cannot see would take precedence: could-not-check, exit 2 (issue 24 item 9).
func TestTestIRSAWhenAssociationsUnreadable(t *testing.T) {
	tf, _ := linked()
	tf.Cloud.Fail("ListPodIdentityAssociations", fakeaws.AccessDenied("ListPodIdentityAssociations"))
	out, errOut, code := tf.Run("test", saName, "-n", ns)
	if code != 2 || !strings.Contains(out, "PASS") || !strings.Contains(out, "note: could not check the EKS Pod Identity associations") || !strings.Contains(errOut, "incomplete") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestTestSTSUnreachableIsNotAFailure: no answer from STS proves nothing either way: exit 2, not "STS refused".
func TestTestSTSUnreachableIsNotAFailure(t *testing.T) {
	tf, _ := linked()
	tf.Cloud.Fail("AssumeRoleWithWebIdentity", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"))
	out, errOut, code := tf.Run("test", saName, "-n", ns)
	if code != 2 || strings.Contains(out+errOut, "STS refused") || !strings.Contains(out, "NOT PROVEN") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestTestPodIdentityTargetRole: an association with a targetRoleArn has its target role read in its own
// account: missing fails with PodIdentityTargetRoleMissing before EKS Auth is asked; unreadable (no credentials
// for its account, or AccessDenied) is "could not check", never a failure.
func TestTestPodIdentityTargetRole(t *testing.T) {
	const other = "222222222222"
	withTarget := func(target string) *plugintest.Factory {
		tf := associated(piGoodTrust)
		tf.Cloud.EKS.Associations[0].TargetRoleArn = aws.String(target)
		tf.RoleCloud, tf.RoleAccount = fakeaws.New(), other
		return tf
	}
	sameAccount := "arn:aws:iam::" + fakeaws.Account + ":role/target"
	otherAccount := "arn:aws:iam::" + other + ":role/target"

	tf := withTarget(sameAccount)
	tf.Cloud.IAM.AddRole("", "target", piGoodTrust)
	if out, errOut, code := tf.Run("test", saName, "-n", ns); code != 0 || !strings.Contains(out, "PASS") || !strings.Contains(out, "assumed-role/target/") {
		t.Errorf("target exists: exit %d\n%s%s", code, out, errOut)
	}

	for name, tf := range map[string]*plugintest.Factory{"same account": withTarget(sameAccount), "other account": withTarget(otherAccount)} {
		out, errOut, code := tf.Run("test", saName, "-n", ns, "--role-profile", "second")
		if code != 1 || !strings.Contains(out, "PodIdentityTargetRoleMissing") || !strings.Contains(out, "target role does not exist") ||
			!strings.Contains(errOut, "PodIdentityTargetRoleMissing") || count(tf.Cloud.Calls(), "AssumeRoleForPodIdentity") != 0 {
			t.Errorf("%s, target missing: exit %d\n%s%s", name, code, out, errOut)
		}
	}

	// No credentials for the target's account: the exchange decides (EKS Auth returned the target's credentials).
	tf = withTarget(otherAccount)
	out, errOut, code := tf.Run("test", saName, "-n", ns)
	if code != 0 || !strings.Contains(out, "PASS") || strings.Contains(out, "PodIdentityTargetRoleMissing") || !strings.Contains(out, "EKS Auth returned its credentials, so it exists") {
		t.Errorf("target unreadable, exchange passes: exit %d\n%s%s", code, out, errOut)
	}
	// AccessDenied on the target's account, and EKS Auth not callable: not proven, and the read a could-not-check.
	tf = withTarget(otherAccount)
	tf.RoleCloud.Fail("GetRole", fakeaws.AccessDenied("GetRole"))
	tf.Cloud.Fail("AssumeRoleForPodIdentity", &eksauth.Error{StatusCode: 403, Code: eksauth.AccessDenied, Message: "not authorized to perform: eks-auth:AssumeRoleForPodIdentity"})
	out, errOut, code = tf.Run("test", saName, "-n", ns, "--role-profile", "second", "-o", "json")
	var res inspect.TestResult
	if code != 2 || json.Unmarshal([]byte(out), &res) != nil || res.Verdict != inspect.VerdictNotProven || len(res.Findings) != 0 ||
		len(res.CouldNotCheck) != 1 || !strings.Contains(res.CouldNotCheck[0], "could not check role target") {
		t.Errorf("target denied: exit %d, %+v\n%s", code, res, errOut)
	}
}
