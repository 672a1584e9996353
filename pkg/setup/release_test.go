package setup

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// TestRelinkReusesAnnotatedRole: linking an annotated ServiceAccount again without naming a role sets its
// permissions on the role it is annotated with (no "already annotated", no new role).
func TestRelinkReusesAnnotatedRole(t *testing.T) {
	cloud := fakeaws.New()
	s := newSetup(kubeWithSAs([]string{"app"}), cloud)
	if _, err := link(t, s, linkSA("app", "s3:GetObject")); err != nil {
		t.Fatal(err)
	}
	res, err := link(t, s, LinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "app", ClusterName: "prod", Permissions: ActionsPolicy([]string{"sqs:SendMessage"})})
	if err != nil {
		t.Fatalf("relink: %v", err)
	}
	if res.Role.Name != "shared" {
		t.Errorf("relink used role %s, want the annotated role shared", res.Role.Name)
	}
	if got := statementOf(t, cloud, "shared", "app"); got != "sqs:SendMessage" {
		t.Errorf("statement of app on shared = %q, want sqs:SendMessage", got)
	}
	if cloud.IAM.Trust(DefaultRoleName("prod", "irsa-sample-ns", "app")) != "" {
		t.Error("a new role was created for the relink")
	}
}

// TestOverwriteMovesStatement: --overwrite to another role takes the ServiceAccount's subject and statement off
// the old role (kept for its other subject), and deletes the old role when the ServiceAccount was its last
// subject and kubectl irsa created it (its lease deleted too).
func TestOverwriteMovesStatement(t *testing.T) {
	cloud := fakeaws.New()
	s := newSetup(kubeWithSAs([]string{"app", "worker"}), cloud)
	var deletedLocks []string
	s.DeleteLock = func(_ context.Context, arn string) error { deletedLocks = append(deletedLocks, arn); return nil }
	for _, sa := range []string{"app", "worker"} {
		if _, err := link(t, s, linkSA(sa, "s3:GetObject")); err != nil {
			t.Fatal(err)
		}
	}
	move := LinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "app", RoleName: "other", Overwrite: true, Permissions: ActionsPolicy([]string{"s3:GetObject"})}
	if _, err := link(t, s, move); err != nil {
		t.Fatal(err)
	}
	if got := statementOf(t, cloud, "shared", "app"); got != "" {
		t.Errorf("app's statement left on the old role: %q", got)
	}
	if tr := cloud.IAM.Trust("shared"); strings.Contains(tr, "serviceaccount:irsa-sample-ns:app") || !strings.Contains(tr, "serviceaccount:irsa-sample-ns:worker") {
		t.Errorf("old role trust after the move: %s", tr)
	}
	if got := statementOf(t, cloud, "other", "app"); got != "s3:GetObject" {
		t.Errorf("app's statement on the new role = %q", got)
	}
	// worker is shared's last subject: moving it deletes the role kubectl irsa created.
	move.ServiceAccount = "worker"
	if _, err := link(t, s, move); err != nil {
		t.Fatal(err)
	}
	if cloud.IAM.Trust("shared") != "" {
		t.Errorf("old role kept with no subject left: %s", cloud.IAM.Trust("shared"))
	}
	if len(deletedLocks) != 1 || !strings.HasSuffix(deletedLocks[0], ":role/shared") {
		t.Errorf("locks deleted = %v, want the old role's", deletedLocks)
	}
}

// TestUnlinkLastSubjectNamesItsWay: unlinking a role's last subject is refused with an error telling whether
// kubectl irsa created the role; with deletion asked, the same unlink deletes the role.
func TestUnlinkLastSubjectNamesItsWay(t *testing.T) {
	cloud := fakeaws.New()
	s := newSetup(kubeWithSAs([]string{"app"}), cloud)
	if _, err := link(t, s, linkSA("app", "s3:GetObject")); err != nil {
		t.Fatal(err)
	}
	_, err := s.PlanUnlink(context.Background(), UnlinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "app"})
	var last *LastSubjectError
	if !errors.As(err, &last) || !last.Managed || !errors.Is(err, ErrLastSubject) {
		t.Fatalf("err = %v, want a LastSubjectError of a managed role", err)
	}
	plan, err := s.PlanUnlink(context.Background(), UnlinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "app", DeleteRole: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cloud.IAM.Trust("shared") != "" {
		t.Error("role not deleted")
	}
}

// TestUnlinkPodIdentityRemovesStatement: unlink --pod-identity takes the ServiceAccount's statement off the
// role's inline policy (another ServiceAccount's stays), so the next ServiceAccount on the role does not inherit it.
func TestUnlinkPodIdentityRemovesStatement(t *testing.T) {
	cloud := fakeaws.New()
	arn := cloud.IAM.AddRole("/", "pi", `{"Version":"2012-10-17","Statement":[{"Sid":"`+trust.PodIdentitySid+`","Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`)
	doc, err := setOwned("", PolicySid("irsa-sample-ns", "app"), mustOwned(t, "app", "s3:GetObject"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err = setOwned(doc, PolicySid("irsa-sample-ns", "worker"), mustOwned(t, "worker", "sqs:SendMessage"))
	if err != nil {
		t.Fatal(err)
	}
	cloud.IAM.PutInline("pi", InlinePolicyName, doc)
	cloud.EKS.AddAssociation("prod", "irsa-sample-ns", "app", arn)
	cloud.EKS.AddAssociation("prod", "irsa-sample-ns", "worker", arn)
	p := &PodIdentity{Setup: newSetup(kubeWithSAs([]string{"app", "worker"}), cloud), EKS: cloud.EKS, Cluster: "prod"}
	plan, err := p.PlanUnlinkPodIdentity(context.Background(), UnlinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := statementOf(t, cloud, "pi", "app"); got != "" {
		t.Errorf("app's statement left after unlink --pod-identity: %q", got)
	}
	if got := statementOf(t, cloud, "pi", "worker"); got != "sqs:SendMessage" {
		t.Errorf("worker's statement = %q, want it kept", got)
	}
	if cloud.EKS.Association("irsa-sample-ns", "app") != nil {
		t.Error("association not deleted")
	}
}

func mustOwned(t *testing.T, sa string, actions ...string) []json.RawMessage {
	t.Helper()
	st, err := ActionsPolicy(actions).OwnedStatements(PolicySid("irsa-sample-ns", sa))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestUnlinkKeepsStatementOfOtherCluster: a role shared by two clusters whose same-named ServiceAccounts are
// linked to it; unlinking one cluster's takes its subject out but keeps the statement (its Sid is the
// ServiceAccount's, not the cluster's) while the other cluster's subject uses it; the last unlink removes it.
func TestUnlinkKeepsStatementOfOtherCluster(t *testing.T) {
	cloud := fakeaws.New()
	blue := newSetup(kubeWithSAs([]string{"app", "worker"}), cloud)
	green := newSetup(kubeWithSAs([]string{"app"}), cloud)
	green.Issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/GREEN00000"
	for _, s := range []*Setup{blue, green} {
		if _, err := link(t, s, linkSA("app", "s3:GetObject")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := link(t, blue, linkSA("worker", "s3:GetObject")); err != nil {
		t.Fatal(err)
	}
	if err := unlinkSA(t, blue, "app"); err != nil {
		t.Fatal(err)
	}
	if got := statementOf(t, cloud, "shared", "app"); got != "s3:GetObject" {
		t.Errorf("app's statement after blue's unlink = %q, want kept for green's app", got)
	}
	if tr := cloud.IAM.Trust("shared"); strings.Count(tr, "serviceaccount:irsa-sample-ns:app") != 1 {
		t.Errorf("trust after blue's unlink: %s", tr)
	}
	if err := unlinkSA(t, green, "app"); err != nil {
		t.Fatal(err)
	}
	if got := statementOf(t, cloud, "shared", "app"); got != "" {
		t.Errorf("app's statement after the last unlink = %q, want removed", got)
	}
}

// TestUnlinkPodIdentityKeepsWhatAnotherClusterUses: a role retargeted to a new cluster (green's association uses
// it too): unlinking blue's association keeps the Pod Identity statement, and --delete-role keeps the role; when
// the other clusters cannot be listed, the statement is kept and the role not deleted either.
func TestUnlinkPodIdentityKeepsWhatAnotherClusterUses(t *testing.T) {
	for _, tc := range []struct {
		name       string
		green      bool // green's association uses the role
		listDenied bool
	}{
		{"used by green", true, false},
		{"other clusters unreadable", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cloud := fakeaws.New()
			arn := cloud.IAM.AddRole("/", "pi", `{"Version":"2012-10-17","Statement":[{"Sid":"`+trust.PodIdentitySid+`","Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`)
			cloud.EKS.Clusters = map[string]string{"blue": "", "green": ""}
			cloud.EKS.AddAssociation("blue", "irsa-sample-ns", "app", arn)
			if tc.green {
				cloud.EKS.AddAssociation("green", "irsa-sample-ns", "app", arn)
			}
			if tc.listDenied {
				cloud.Fail("ListClusters", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: eks:ListClusters"})
			}
			p := &PodIdentity{Setup: newSetup(kubeWithSAs([]string{"app"}), cloud), EKS: cloud.EKS, Cluster: "blue"}
			if _, err := p.PlanUnlinkPodIdentity(context.Background(), UnlinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "app", DeleteRole: true}); !errors.Is(err, ErrRoleInUse) {
				t.Errorf("--delete-role: %v, want ErrRoleInUse", err)
			}
			plan, err := p.PlanUnlinkPodIdentity(context.Background(), UnlinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "app"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := plan.Apply(context.Background()); err != nil {
				t.Fatal(err)
			}
			if tr := cloud.IAM.Trust("pi"); !strings.Contains(tr, trust.PodIdentitySid) {
				t.Errorf("the Pod Identity statement green needs was removed: %s", tr)
			}
		})
	}
}

// TestLinkRoleDeletedWhileWaiting: a role deleted by another run (unlink --delete-role, gc) between this link's
// plan and its write: one line saying so and to run again, nothing changed.
func TestLinkRoleDeletedWhileWaiting(t *testing.T) {
	cloud := fakeaws.New()
	kube := kubeWithSAs([]string{"app", "worker"})
	s := newSetup(kube, cloud)
	if _, err := link(t, s, linkSA("app", "s3:GetObject")); err != nil {
		t.Fatal(err)
	}
	plan, err := s.PlanLink(context.Background(), linkSA("worker", "s3:GetObject"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cloud.IAM.DeleteRolePolicy(context.Background(), &iam.DeleteRolePolicyInput{RoleName: aws.String("shared"), PolicyName: aws.String(InlinePolicyName)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cloud.IAM.DeleteRole(context.Background(), &iam.DeleteRoleInput{RoleName: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	_, err = plan.Apply(context.Background())
	if err == nil || !strings.Contains(err.Error(), "role shared was deleted by another run") || !strings.Contains(err.Error(), "run again") {
		t.Errorf("apply after the role was deleted: %v", err)
	}
	sa, _ := kube.CoreV1().ServiceAccounts("irsa-sample-ns").Get(context.Background(), "worker", metav1.GetOptions{})
	if sa.Annotations[iamref.RoleARNAnnotation] != "" {
		t.Errorf("worker annotated although the link failed: %v", sa.Annotations)
	}
}

// TestUnlinkKeepsStatementOfClusterJoiningMeanwhile: the same ServiceAccount of another cluster links to the role
// between this unlink's plan and its write: the statement it uses is kept (checked again under the lock).
func TestUnlinkKeepsStatementOfClusterJoiningMeanwhile(t *testing.T) {
	cloud := fakeaws.New()
	blue := newSetup(kubeWithSAs([]string{"app", "worker"}), cloud)
	green := newSetup(kubeWithSAs([]string{"app"}), cloud)
	green.Issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/GREEN00000"
	for _, sa := range []string{"app", "worker"} {
		if _, err := link(t, blue, linkSA(sa, "s3:GetObject")); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := blue.PlanUnlink(context.Background(), UnlinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := link(t, green, linkSA("app", "s3:GetObject")); err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := statementOf(t, cloud, "shared", "app"); got != "s3:GetObject" {
		t.Errorf("app's statement after blue's unlink = %q, want kept for green's app (joined since the plan)", got)
	}
}

// TestLinkNamesSharedStatement: another cluster's link of the same ServiceAccount with other permissions replaces
// the statement both clusters' pods use (the permissions are the role's): the plan says so.
func TestLinkNamesSharedStatement(t *testing.T) {
	cloud := fakeaws.New()
	blue := newSetup(kubeWithSAs([]string{"app"}), cloud)
	green := newSetup(kubeWithSAs([]string{"app"}), cloud)
	green.Issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/GREEN00000"
	if _, err := link(t, blue, linkSA("app", "s3:GetObject")); err != nil {
		t.Fatal(err)
	}
	if _, err := link(t, green, linkSA("app", "s3:GetObject")); err != nil {
		t.Fatal(err)
	}
	res, err := link(t, green, linkSA("app", "sqs:SendMessage"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Hints, func(h string) bool {
		return strings.Contains(h, "shared with the same ServiceAccount of another cluster")
	}) {
		t.Errorf("hints %q do not name the shared statement", res.Hints)
	}
}

// TestRoleUsersStopsAtFirstUser: the account's other clusters are not listed when this cluster's associations use
// the role, and the listing stops at the first other cluster that uses it.
func TestRoleUsersStopsAtFirstUser(t *testing.T) {
	cloud := fakeaws.New()
	arn := cloud.IAM.AddRole("/", "pi", `{"Version":"2012-10-17","Statement":[]}`)
	cloud.EKS.Clusters = map[string]string{"a": "", "blue": "", "c": ""}
	cloud.EKS.AddAssociation("blue", "ns", "one", arn)
	cloud.EKS.AddAssociation("blue", "ns", "two", arn)
	cloud.EKS.AddAssociation("a", "ns", "x", arn)
	cloud.EKS.AddAssociation("c", "ns", "y", arn)
	p := &PodIdentity{Setup: newSetup(kubeWithSAs(nil), cloud), EKS: cloud.EKS, Cluster: "blue"}
	users, err := p.RoleUsers(context.Background(), arn, "")
	if err != nil || len(users) != 2 || slices.Contains(cloud.Calls(), "ListClusters") {
		t.Errorf("used here: users %v (%v), calls %v", users, err, cloud.Calls())
	}
	p.Cluster = "d"
	users, err = p.RoleUsers(context.Background(), arn, "")
	if err != nil || len(users) != 1 || !strings.HasPrefix(users[0], "a/") {
		t.Errorf("used in a and c: users %v (%v), want a's only", users, err)
	}
}
