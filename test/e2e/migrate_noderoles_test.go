package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// TestMigrateChecksNodeRoleManagedPolicies: a node role's attached customer managed policies are read (default
// version) and evaluated with its inline ones: a customer policy named AmazonEKSWorkerNodePolicy that denies
// everything blocks, a customer policy allowing eks-auth:AssumeRoleForPodIdentity passes, an inline Deny wins,
// and a policy that cannot be read is could-not-check.
func TestMigrateChecksNodeRoleManagedPolicies(t *testing.T) {
	ctx := context.Background()
	ns := "pi-migrate-nodepol"
	const roleName = "pi-mignp-node"
	createNamespace(t, ns)
	cleanupAssociations(t, ns)
	installAgent(t)
	linkIRSA(t, ns, "pi-mignp-", "api")
	nodeARN := createRole(t, roleName, `{"Version":"2012-10-17","Statement":[`+ec2Statement+`]}`)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "aws-auth", Namespace: "kube-system"}, Data: map[string]string{
		"mapRoles": "- rolearn: " + nodeARN + "\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n"}}
	if _, err := kube.CoreV1().ConfigMaps("kube-system").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kube.CoreV1().ConfigMaps("kube-system").Delete(ctx, "aws-auth", metav1.DeleteOptions{}) })
	sb.EKS.SetAuthenticationMode(sandbox.ClusterName, "CONFIG_MAP")
	t.Cleanup(func() { sb.EKS.SetAuthenticationMode(sandbox.ClusterName, "") })

	policy := func(name, doc string) string {
		t.Helper()
		out, err := iamClient.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
		if err != nil {
			t.Fatal(err)
		}
		arn := aws.ToString(out.Policy.Arn)
		t.Cleanup(func() {
			_, _ = iamClient.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(roleName), PolicyArn: aws.String(arn)})
			if _, err := iamClient.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}); err != nil {
				t.Logf("delete policy %s: %v", arn, err)
			}
		})
		return arn
	}
	attach := func(arn string) {
		t.Helper()
		if _, err := iamClient.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(roleName), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	detach := func(arn string) {
		t.Helper()
		if _, err := iamClient.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(roleName), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	dryRun := func(step string) (api.Migration, []string) {
		t.Helper()
		counter.Reset()
		list, r := migrateJSON(t, "api", "-n", ns, "--dry-run")
		if len(list.Items) != 1 {
			t.Fatalf("%s: %s", step, r)
		}
		calls := counter.Calls()
		t.Logf("%s: %d AWS calls %v", step, len(calls), calls)
		return list.Items[0], calls
	}
	reasons := func(m api.Migration) string { return strings.Join(m.Reasons, "\n") }
	const prefix = "PodIdentityNodeRole: node role " + roleName + " (aws-auth) may not call eks-auth:AssumeRoleForPodIdentity: "

	// A customer managed policy that only shares AmazonEKSWorkerNodePolicy's name, and denies everything.
	impostor := policy("AmazonEKSWorkerNodePolicy", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`)
	attach(impostor)
	m, calls := dryRun("customer AmazonEKSWorkerNodePolicy denying *")
	if m.Outcome != api.MigrationSkipped || !strings.Contains(reasons(m), prefix+"a Deny in "+impostor+" refuses it") {
		t.Errorf("customer AmazonEKSWorkerNodePolicy with Deny *: %+v", m)
	}
	if countOf(calls, "iam:GetPolicy") != 1 || countOf(calls, "iam:GetPolicyVersion") != 1 {
		t.Errorf("want one GetPolicy and one GetPolicyVersion: %v", calls)
	}
	detach(impostor)

	// A customer managed policy that allows the action: the move may go on.
	agent := policy("pi-mignp-agent", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["eks-auth:Assume*"],"Resource":"*"}]}`)
	attach(agent)
	m, _ = dryRun("customer managed Allow")
	if m.Outcome != api.MigrationPlanned || strings.Contains(reasons(m), "PodIdentityNodeRole") || len(m.CouldNotCheck) > 0 {
		t.Errorf("customer managed Allow: %+v", m)
	}

	// Its default version cannot be read: could-not-check, not a block.
	remove := sb.AWS.InjectFault(sandbox.Fault{Operation: "iam:GetPolicyVersion"})
	m, _ = dryRun("GetPolicyVersion denied")
	remove()
	if m.Outcome != api.MigrationPlanned || len(m.CouldNotCheck) != 1 ||
		!strings.Contains(m.CouldNotCheck[0], "could not check whether node role "+roleName+" (aws-auth) may call eks-auth:AssumeRoleForPodIdentity: iam:GetPolicyVersion "+agent) {
		t.Errorf("GetPolicyVersion denied: %+v", m)
	}

	// An inline Deny wins over the managed Allow.
	if _, err := iamClient.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String("lockdown"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["ec2:*","ecr:*"],"Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	m, _ = dryRun("inline Deny NotAction")
	if m.Outcome != api.MigrationSkipped || !strings.Contains(reasons(m), prefix+"a Deny in inline policy lockdown refuses it") {
		t.Errorf("inline Deny over a managed Allow: %+v", m)
	}
	// The AWS managed AmazonEKSWorkerNodePolicy is not attachable in moto (NoSuchEntity): unit tests cover it.
}
