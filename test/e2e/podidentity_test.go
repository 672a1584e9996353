package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

const ec2Statement = `{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`

// association returns the Pod Identity association of ns/sa in the sandbox cluster (nil when none).
func association(t *testing.T, ns, sa string) *eks.DescribePodIdentityAssociationOutput {
	t.Helper()
	ctx := context.Background()
	list, err := eksClient().ListPodIdentityAssociations(ctx, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(sandbox.ClusterName), Namespace: aws.String(ns), ServiceAccount: aws.String(sa)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Associations) == 0 {
		return nil
	}
	out, err := eksClient().DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: list.Associations[0].AssociationId})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// cleanupAssociations deletes every association of the namespace at the test's end (before its roles go).
func cleanupAssociations(t *testing.T, ns string) {
	t.Cleanup(func() {
		ctx := context.Background()
		list, err := eksClient().ListPodIdentityAssociations(ctx, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(sandbox.ClusterName), Namespace: aws.String(ns)})
		if err != nil {
			return
		}
		for _, a := range list.Associations {
			_, _ = eksClient().DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: a.AssociationId})
		}
	})
}

// installAgent installs the Pod Identity Agent add-on (and its DaemonSet) for the test.
func installAgent(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	_, err := eksClient().CreateAddon(ctx, &eks.CreateAddonInput{ClusterName: aws.String(sandbox.ClusterName), AddonName: aws.String(sandbox.PodIdentityAgentAddon)})
	if err != nil && apiErrorCode(err) != "ResourceInUseException" {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = eksClient().DeleteAddon(ctx, &eks.DeleteAddonInput{ClusterName: aws.String(sandbox.ClusterName), AddonName: aws.String(sandbox.PodIdentityAgentAddon)})
	})
}

func trustString(t *testing.T, role string) string {
	t.Helper()
	d := roleTrust(t, role)
	if d == nil {
		t.Fatalf("role %s does not exist", role)
	}
	return d.String()
}

// TestLinkPodIdentity: link --pod-identity fresh (<= 8 AWS calls), repeated (0 writes), into a role with a
// foreign statement (kept byte for byte), rolled back when the association call fails, and unlinked.
func TestLinkPodIdentity(t *testing.T) {
	ns := "pi-link"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)
	createServiceAccount(t, ns, "merge", nil)
	cleanupAssociations(t, ns)
	t.Cleanup(func() { deleteRoleIfExists(t, "pi-link-fresh") })

	counter.Reset()
	r := mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--pod-identity", "--role-name", "pi-link-fresh", "--allow", "eks:ListClusters"))
	fresh := counter.Calls()
	t.Logf("fresh link --pod-identity: %d AWS calls %v, writes %v", len(fresh), fresh, counter.Writes())
	if len(fresh) > 8 {
		t.Errorf("fresh link --pod-identity made %d AWS calls, want <= 8: %v", len(fresh), fresh)
	}
	if !strings.Contains(r.stderr, "not installed") {
		t.Errorf("no agent warning: %s", r)
	}
	a := association(t, ns, "app")
	if a == nil || !strings.HasSuffix(aws.ToString(a.Association.RoleArn), ":role/pi-link-fresh") {
		t.Fatalf("association: %+v", a)
	}
	if roleTrust(t, "pi-link-fresh").EvaluatePodIdentity(trust.PodIdentityRequest{}).Verdict != trust.Admits {
		t.Errorf("trust does not admit Pod Identity: %s", trustString(t, "pi-link-fresh"))
	}
	if roleAnnotation(t, ns, "app") != "" {
		t.Errorf("annotation written")
	}
	counter.Reset()
	r = mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--pod-identity", "--role-name", "pi-link-fresh", "--allow", "eks:ListClusters"))
	if w := counter.Writes(); len(w) != 0 || !strings.Contains(r.stdout, "unchanged") {
		t.Errorf("repeat wrote %v: %s", w, r)
	}
	t.Logf("repeat link --pod-identity: %d AWS calls, 0 writes", len(counter.Calls()))

	createRole(t, "pi-link-merge", `{"Version":"2012-10-17","Statement":[`+ec2Statement+`]}`)
	former := trustString(t, "pi-link-merge")
	remove := sb.AWS.InjectFault(sandbox.Fault{Operation: "eks:CreatePodIdentityAssociation"})
	r = irsaCmd(t, "link", "merge", "-n", ns, "--pod-identity", "--role-name", "pi-link-merge")
	remove()
	if r.code == 0 || !strings.Contains(r.stderr, "rolled back") {
		t.Fatalf("want a rolled-back failure: %s", r)
	}
	if got := trustString(t, "pi-link-merge"); got != former || association(t, ns, "merge") != nil {
		t.Errorf("after rollback trust = %s, want %s", got, former)
	}
	mustSucceed(t, irsaCmd(t, "link", "merge", "-n", ns, "--pod-identity", "--role-name", "pi-link-merge"))
	doc := roleTrust(t, "pi-link-merge")
	if len(doc.Statements) != 2 || mustCompact(t, string(doc.Statements[0])) != mustCompact(t, ec2Statement) {
		t.Errorf("foreign statement not kept: %s", doc)
	}
	mustSucceed(t, irsaCmd(t, "unlink", "merge", "-n", ns, "--pod-identity"))
	if got := trustString(t, "pi-link-merge"); got != former || association(t, ns, "merge") != nil {
		t.Errorf("after unlink trust = %s, want %s", got, former)
	}
}

func deleteRoleIfExists(t *testing.T, name string) {
	ctx := context.Background()
	if inline, err := iamClient.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)}); err == nil {
		for _, p := range inline.PolicyNames {
			_, _ = iamClient.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(p)})
		}
	}
	_, _ = iamClient.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
}

func migrateJSON(t *testing.T, args ...string) (api.MigrationList, result) {
	t.Helper()
	r := irsaCmd(t, append([]string{"migrate", "-o", "json"}, args...)...)
	var list api.MigrationList
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("migrate output is not JSON: %v\n%s", err, r)
	}
	return list, r
}

func outcome(list api.MigrationList, sa string) api.Migration {
	for _, m := range list.Items {
		if m.ServiceAccount == sa {
			return m
		}
	}
	return api.Migration{}
}

// TestMigrate: IRSA-linked ServiceAccounts moved to Pod Identity end to end, re-run, resumed, IRSA removed,
// rolled back to the exact former trust, and a ServiceAccount with a Fargate pod skipped while others move.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	ns := "pi-migrate"
	createNamespace(t, ns)
	cleanupAssociations(t, ns)
	installAgent(t)
	for _, sa := range []string{"web", "batch", "worker"} {
		createServiceAccount(t, ns, sa, nil)
		createRole(t, "pi-mig-"+sa, `{"Version":"2012-10-17","Statement":[`+ec2Statement+`]}`)
		mustSucceed(t, irsaCmd(t, "link", sa, "-n", ns, "--role-name", "pi-mig-"+sa))
	}
	webRole := roleAnnotation(t, ns, "web")
	former := trustString(t, "pi-mig-web")

	counter.Reset()
	r := mustSucceed(t, irsaCmd(t, "migrate", "web", "-n", ns))
	calls := counter.Calls()
	t.Logf("migrate of one ServiceAccount: %d AWS calls %v (writes %v)", len(calls), calls, counter.Writes())
	if !strings.Contains(r.stdout, "migrated "+ns+"/web") || !strings.Contains(r.stdout, ":assumed-role/pi-mig-web/") {
		t.Fatalf("migrate web: %s", r)
	}
	if len(calls) > 12 {
		t.Errorf("one migration made %d AWS calls, want <= 12", len(calls))
	}
	doc := roleTrust(t, "pi-mig-web")
	if len(doc.Statements) != 3 || doc.EvaluatePodIdentity(trust.PodIdentityRequest{}).Verdict != trust.Admits ||
		doc.Evaluate(trust.Claims{ProviderARN: provider().ARN, HostPath: provider().HostPath, Subject: trust.Subject(ns, "web"), Audience: iamref.DefaultAudience}).Verdict != trust.Admits {
		t.Errorf("want the foreign, IRSA and Pod Identity statements: %s", doc)
	}
	if a := association(t, ns, "web"); a == nil || aws.ToString(a.Association.RoleArn) != webRole {
		t.Errorf("association: %+v", a)
	}
	if roleAnnotation(t, ns, "web") != webRole {
		t.Errorf("annotation removed without --remove-irsa")
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-after", Namespace: ns},
		Spec: corev1.PodSpec{ServiceAccountName: "web", Containers: []corev1.Container{{Name: "app", Image: "public.ecr.aws/aws-cli/aws-cli:2.17.0"}}}}
	created, err := kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !podHasEnv(created, setup.PodIdentityEnv) {
		t.Errorf("pod admitted after the migration lacks %s: %+v", setup.PodIdentityEnv, created.Spec.Containers[0].Env)
	}

	counter.Reset()
	r = mustSucceed(t, irsaCmd(t, "migrate", "web", "-n", ns))
	if w := counter.Writes(); len(w) != 0 || !strings.Contains(r.stdout, "unchanged") {
		t.Errorf("re-run wrote %v: %s", w, r)
	}

	// An interrupted run of worker: statement added and step recorded, killed before the association.
	wdoc := roleTrust(t, "pi-mig-worker")
	if _, err := wdoc.AddPodIdentity(trust.PodIdentityRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamClient.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("pi-mig-worker"), PolicyDocument: aws.String(wdoc.String())}); err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(setup.MigrationRecord{RoleARN: roleAnnotation(t, ns, "worker"), Step: setup.StepTrust})
	mustSucceed(t, kubectl(t, env(), "annotate", "serviceaccount", "worker", "-n", ns, setup.MigrationAnnotation+"="+string(rec)))

	// A Fargate pod of batch: batch is skipped with the reason, worker resumes, web is unchanged.
	fargate := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "batch-fargate", Namespace: ns, Labels: map[string]string{"eks.amazonaws.com/compute-type": "fargate"}},
		Spec: corev1.PodSpec{ServiceAccountName: "batch", Containers: []corev1.Container{{Name: "job", Image: "busybox"}}}}
	if _, err := kube.CoreV1().Pods(ns).Create(ctx, fargate, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	list, r := migrateJSON(t, "-n", ns, "--all")
	if r.code != 1 {
		t.Errorf("want exit 1 with a skipped ServiceAccount: %s", r)
	}
	if b := outcome(list, "batch"); b.Outcome != api.MigrationSkipped || !strings.Contains(strings.Join(b.Reasons, " "), "Fargate") || association(t, ns, "batch") != nil {
		t.Errorf("batch: %+v", b)
	}
	if w := outcome(list, "worker"); w.Outcome != api.MigrationMigrated || w.ResumedFrom != setup.StepTrust || association(t, ns, "worker") == nil {
		t.Errorf("worker did not resume: %+v", w)
	}
	if w := outcome(list, "web"); w.Outcome != api.MigrationUnchanged {
		t.Errorf("web: %+v", w)
	}

	r = mustSucceed(t, irsaCmd(t, "migrate", "web", "-n", ns, "--remove-irsa"))
	doc = roleTrust(t, "pi-mig-web")
	if roleAnnotation(t, ns, "web") != "" || len(doc.Statements) != 2 || mustCompact(t, string(doc.Statements[0])) != mustCompact(t, ec2Statement) || !doc.TrustsPodIdentity() {
		t.Errorf("--remove-irsa: annotation %q, trust %s", roleAnnotation(t, ns, "web"), doc)
	}
	r = mustSucceed(t, irsaCmd(t, "migrate", "web", "-n", ns, "--rollback"))
	if got := trustString(t, "pi-mig-web"); got != former {
		t.Errorf("rollback trust\n%s\nwant\n%s", got, former)
	}
	if roleAnnotation(t, ns, "web") != webRole || association(t, ns, "web") != nil {
		t.Errorf("rollback: annotation %q, association %+v", roleAnnotation(t, ns, "web"), association(t, ns, "web"))
	}
	if strings.Contains(r.stdout+r.stderr, "eyJ") {
		t.Errorf("a token was printed: %s", r)
	}
}

// TestMigrateVerificationFailure: EKS Auth refuses, so the ServiceAccount's association and our statement are
// rolled back and IRSA stays exactly as it was.
func TestMigrateVerificationFailure(t *testing.T) {
	ns := "pi-migrate-fail"
	createNamespace(t, ns)
	cleanupAssociations(t, ns)
	installAgent(t)
	createServiceAccount(t, ns, "api", nil)
	createRole(t, "pi-migfail-api", `{"Version":"2012-10-17","Statement":[`+ec2Statement+`]}`)
	mustSucceed(t, irsaCmd(t, "link", "api", "-n", ns, "--role-name", "pi-migfail-api"))
	former, annotation := trustString(t, "pi-migfail-api"), roleAnnotation(t, ns, "api")
	remove := sb.AWS.InjectFault(sandbox.Fault{Operation: "eks-auth:AssumeRoleForPodIdentity"})
	r := irsaCmd(t, "migrate", "api", "-n", ns)
	remove()
	if r.code != 1 || !strings.Contains(r.stdout, "failed "+ns+"/api") {
		t.Fatalf("want failed and rolled back: %s", r)
	}
	if trustString(t, "pi-migfail-api") != former || roleAnnotation(t, ns, "api") != annotation || association(t, ns, "api") != nil {
		t.Errorf("not rolled back: trust %s", trustString(t, "pi-migfail-api"))
	}
}

func podHasEnv(p *corev1.Pod, name string) bool {
	for _, c := range p.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == name {
				return true
			}
		}
	}
	return false
}
