package plugin_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// irsaLinked is the seed ServiceAccount linked with IRSA to role app (trust: our IRSA statement), with the agent.
func irsaLinked(t *testing.T, extra ...*corev1.ServiceAccount) (*plugintest.Factory, string) {
	t.Helper()
	roleARN := "arn:aws:iam::" + fakeaws.Account + ":role/app"
	objs := []any{plugintest.Namespace(ns), plugintest.ServiceAccount(ns, saName, map[string]string{iamref.RoleARNAnnotation: roleARN})}
	tf := plugintest.NewFactory()
	for _, o := range objs {
		switch v := o.(type) {
		case *corev1.Namespace:
			_, _ = tf.Kube.CoreV1().Namespaces().Create(context.Background(), v, metav1.CreateOptions{})
		case *corev1.ServiceAccount:
			_, _ = tf.Kube.CoreV1().ServiceAccounts(ns).Create(context.Background(), v, metav1.CreateOptions{})
		}
	}
	for _, sa := range extra {
		_, _ = tf.Kube.CoreV1().ServiceAccounts(sa.Namespace).Create(context.Background(), sa, metav1.CreateOptions{})
	}
	tf.Cloud.EKS.Addons = []string{fakeaws.AgentAddon}
	subjects := []string{subject}
	for _, sa := range extra {
		subjects = append(subjects, trust.Subject(sa.Namespace, sa.Name))
	}
	tf.Cloud.IAM.AddRole("", "app", trusting(subjects...))
	return tf, roleARN
}

func migration(t *testing.T, tf *plugintest.Factory, name string) setup.MigrationRecord {
	t.Helper()
	sa, err := tf.Kube.CoreV1().ServiceAccounts(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rec setup.MigrationRecord
	if raw := sa.Annotations[setup.MigrationAnnotation]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			t.Fatal(err)
		}
	}
	return rec
}

func TestMigrateRerunRemoveIRSAAndRollback(t *testing.T) {
	tf, roleARN := irsaLinked(t)
	former := tf.Cloud.IAM.Trust("app")
	out, errOut, code := tf.Run("migrate", saName, "-n", ns)
	if code != 0 || !strings.Contains(out, "migrated "+ns+"/"+saName) {
		t.Fatalf("migrate: %d\n%s\n%s", code, out, errOut)
	}
	doc := roleTrustDoc(t, tf, "app")
	if len(doc.Statements) != 2 || doc.EvaluatePodIdentity(trust.PodIdentityRequest{}).Verdict != trust.Admits {
		t.Errorf("want the IRSA and Pod Identity statements: %s", doc)
	}
	if tf.Cloud.EKS.Association(ns, saName) == nil || annotation(t, tf, ns, saName) != roleARN {
		t.Errorf("association missing or annotation changed")
	}
	if rec := migration(t, tf, saName); rec.Step != setup.StepVerified || rec.RoleARN != roleARN {
		t.Errorf("record = %+v", rec)
	}
	before := len(tf.Cloud.Writes())
	if out, _, code = tf.Run("migrate", saName, "-n", ns); code != 0 || !strings.Contains(out, "unchanged") || len(tf.Cloud.Writes()) != before {
		t.Errorf("re-run: %d %s, writes %v", code, out, tf.Cloud.Writes()[before:])
	}
	if out, errOut, code = tf.Run("migrate", saName, "-n", ns, "--remove-irsa", "-o", "json"); code != 0 {
		t.Fatalf("--remove-irsa: %d %s %s", code, out, errOut)
	}
	var list api.MigrationList
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Items) != 1 || list.Items[0].Outcome != api.MigrationMigrated {
		t.Fatalf("json: %v %s", err, out)
	}
	if annotation(t, tf, ns, saName) != "" || strings.Contains(tf.Cloud.IAM.Trust("app"), "sts:AssumeRoleWithWebIdentity") {
		t.Errorf("IRSA not removed: %s", tf.Cloud.IAM.Trust("app"))
	}
	if out, errOut, code = tf.Run("migrate", saName, "-n", ns, "--rollback"); code != 0 || !strings.Contains(out, "rolled back") {
		t.Fatalf("rollback: %d %s %s", code, out, errOut)
	}
	if got := tf.Cloud.IAM.Trust("app"); mustCompactJSON(t, got) != mustCompactJSON(t, former) {
		t.Errorf("trust after rollback\n%s\nwant\n%s", got, former)
	}
	if annotation(t, tf, ns, saName) != roleARN || tf.Cloud.EKS.Association(ns, saName) != nil || migration(t, tf, saName).Step != "" {
		t.Errorf("rollback left annotation %q, association %v, record %+v", annotation(t, tf, ns, saName), tf.Cloud.EKS.Association(ns, saName), migration(t, tf, saName))
	}
}

func TestMigrateVerificationFailureRollsBack(t *testing.T) {
	tf, roleARN := irsaLinked(t)
	former := tf.Cloud.IAM.Trust("app")
	tf.Cloud.Fail("AssumeRoleForPodIdentity", fakeaws.AccessDenied("AssumeRoleForPodIdentity"))
	out, _, code := tf.Run("migrate", saName, "-n", ns)
	if code != 1 || !strings.Contains(out, "failed "+ns+"/"+saName) || !strings.Contains(out, "IRSA is left as it was") {
		t.Fatalf("%d %s", code, out)
	}
	if tf.Cloud.EKS.Association(ns, saName) != nil || mustCompactJSON(t, tf.Cloud.IAM.Trust("app")) != mustCompactJSON(t, former) || annotation(t, tf, ns, saName) != roleARN {
		t.Errorf("not rolled back: %s", tf.Cloud.IAM.Trust("app"))
	}
}

func TestMigrateResumesFromRecordedStep(t *testing.T) {
	tf, roleARN := irsaLinked(t)
	// An interrupted run: statement added and step recorded, then killed before the association.
	doc := roleTrustDoc(t, tf, "app")
	if _, err := doc.AddPodIdentity(trust.PodIdentityRequest{}); err != nil {
		t.Fatal(err)
	}
	tf.Cloud.IAM.AddRole("", "app", doc.String())
	b, _ := json.Marshal(setup.MigrationRecord{RoleARN: roleARN, Step: setup.StepTrust})
	sa, _ := tf.Kube.CoreV1().ServiceAccounts(ns).Get(context.Background(), saName, metav1.GetOptions{})
	sa.Annotations[setup.MigrationAnnotation] = string(b)
	_, _ = tf.Kube.CoreV1().ServiceAccounts(ns).Update(context.Background(), sa, metav1.UpdateOptions{})
	out, _, code := tf.Run("migrate", saName, "-n", ns)
	if code != 0 || !strings.Contains(out, "resumed from step "+setup.StepTrust) {
		t.Fatalf("%d %s", code, out)
	}
	if strings.Contains(strings.Join(tf.Cloud.Writes(), ","), "UpdateAssumeRolePolicy") {
		t.Errorf("resumed run rewrote the trust: %v", tf.Cloud.Writes())
	}
}

func TestMigratePreflightSkips(t *testing.T) {
	tf, _ := irsaLinked(t, plugintest.ServiceAccount(ns, "batch", map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + fakeaws.Account + ":role/app"}))
	fargate := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "job-1", Namespace: ns, Labels: map[string]string{"eks.amazonaws.com/compute-type": "fargate"}},
		Spec: corev1.PodSpec{ServiceAccountName: "batch", Containers: []corev1.Container{{Name: "c", Image: "amazon/aws-cli:2.9.0",
			Env: []corev1.EnvVar{{Name: "HTTPS_PROXY", Value: "http://proxy:3128"}, {Name: "NO_PROXY", Value: "10.0.0.0/8"}}}}}}
	_, _ = tf.Kube.CoreV1().Pods(ns).Create(context.Background(), fargate, metav1.CreateOptions{})
	out, _, code := tf.Run("migrate", "-n", ns, "--all")
	if code != 1 || !strings.Contains(out, "migrated "+ns+"/"+saName) {
		t.Fatalf("%d %s", code, out)
	}
	for _, want := range []string{"skipped " + ns + "/batch", "PodIdentityUnsupportedCompute", "PodIdentityOldSDK", "PodIdentityProxy"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if tf.Cloud.EKS.Association(ns, "batch") != nil {
		t.Errorf("skipped ServiceAccount got an association")
	}
	// Without the agent every ServiceAccount is skipped before any write.
	tf2, _ := irsaLinked(t)
	tf2.Cloud.EKS.Addons = nil
	if out, _, code = tf2.Run("migrate", saName, "-n", ns); code != 1 || !strings.Contains(out, "PodIdentityAgentMissing") || len(tf2.Cloud.Writes()) != 0 {
		t.Errorf("no agent: %d %s %v", code, out, tf2.Cloud.Writes())
	}
}

func TestMigrateAddonAndNodeRole(t *testing.T) {
	tf, _ := irsaLinked(t)
	_, _ = tf.Kube.CoreV1().Namespaces().Create(context.Background(), plugintest.Namespace("kube-system"), metav1.CreateOptions{})
	_, _ = tf.Kube.CoreV1().ServiceAccounts("kube-system").Create(context.Background(), plugintest.ServiceAccount("kube-system", "aws-node",
		map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + fakeaws.Account + ":role/cni"}), metav1.CreateOptions{})
	out, _, code := tf.Run("migrate", "aws-node", "-n", "kube-system")
	if code != 1 || !strings.Contains(out, "aws eks update-addon --cluster-name test --addon-name vpc-cni --pod-identity-associations serviceAccount=aws-node") {
		t.Errorf("add-on ServiceAccount: %d %s", code, out)
	}
	// A node role in aws-auth without eks-auth:AssumeRoleForPodIdentity blocks the move; attaching the worker
	// node policy lets it through.
	tf.Cloud.IAM.AddRole("", "nodes", ec2Trust)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "aws-auth", Namespace: "kube-system"}, Data: map[string]string{
		"mapRoles": "- rolearn: arn:aws:iam::" + fakeaws.Account + ":role/nodes\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n"}}
	_, _ = tf.Kube.CoreV1().ConfigMaps("kube-system").Create(context.Background(), cm, metav1.CreateOptions{})
	if out, _, code = tf.Run("migrate", saName, "-n", ns); code != 1 || !strings.Contains(out, "PodIdentityNodeRole") || len(tf.Cloud.Writes()) != 0 {
		t.Fatalf("node role without eks-auth: %d %s %v", code, out, tf.Cloud.Writes())
	}
	tf.Cloud.IAM.PutInline("nodes", "eks-auth", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks-auth:AssumeRoleForPodIdentity","Resource":"*"}]}`)
	if out, _, code = tf.Run("migrate", saName, "-n", ns); code != 0 {
		t.Errorf("node role with eks-auth: %d %s", code, out)
	}
}

func TestMigrateListsOrRestartsStaleWorkloads(t *testing.T) {
	tf, _ := irsaLinked(t)
	old := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: ns}, Spec: corev1.PodSpec{ServiceAccountName: saName, Containers: []corev1.Container{{Name: "c", Image: "app:1"}}}}
	_, _ = tf.Kube.CoreV1().Pods(ns).Create(context.Background(), old, metav1.CreateOptions{})
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}, Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: old.Spec}}}
	_, _ = tf.Kube.AppsV1().Deployments(ns).Create(context.Background(), dep, metav1.CreateOptions{})
	_, errOut, code := tf.Run("migrate", saName, "-n", ns, "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: %d %s", code, errOut)
	}
	if _, errOut, code = tf.Run("migrate", saName, "-n", ns); code != 0 || !strings.Contains(errOut, "kubectl rollout restart deployment/web -n "+ns) || !strings.Contains(errOut, "web-1") {
		t.Errorf("want the stale pod and the restart command listed: %d %s", code, errOut)
	}
	if _, _, code = tf.Run("migrate", saName, "-n", ns, "--rollback", "--restart"); code != 0 {
		t.Fatal(code)
	}
	d, _ := tf.Kube.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] == "" {
		t.Errorf("--rollback --restart did not restart the deployment")
	}
}

// TestMigrateRemoveIRSAWaitsForIRSAPods: --remove-irsa keeps IRSA while a pod of the ServiceAccount still runs on
// it (admitted before the association), and removes it once that pod is gone.
func TestMigrateRemoveIRSAWaitsForIRSAPods(t *testing.T) {
	tf, roleARN := irsaLinked(t)
	old := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: ns}, Spec: corev1.PodSpec{ServiceAccountName: saName,
		Containers: []corev1.Container{{Name: "app", Image: "busybox", Env: []corev1.EnvVar{{Name: "AWS_WEB_IDENTITY_TOKEN_FILE", Value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}}}}}}
	if _, err := tf.Kube.CoreV1().Pods(ns).Create(context.Background(), old, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := tf.Run("migrate", saName, "-n", ns, "--remove-irsa")
	if code != 1 || !strings.Contains(out+errOut, "still use IRSA: old") || annotation(t, tf, ns, saName) != roleARN ||
		!strings.Contains(tf.Cloud.IAM.Trust("app"), "sts:AssumeRoleWithWebIdentity") {
		t.Fatalf("IRSA removed under a running IRSA pod: exit %d\n%s%s", code, out, errOut)
	}
	if err := tf.Kube.CoreV1().Pods(ns).Delete(context.Background(), "old", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code = tf.Run("migrate", saName, "-n", ns, "--remove-irsa"); code != 0 || annotation(t, tf, ns, saName) != "" {
		t.Errorf("after the pod left: exit %d\n%s%s", code, out, errOut)
	}
}

// TestMigrateRefusesAnotherPartitionsARN: IAM answers GetRole by name; an annotation naming the role in another
// partition names no role, so the ServiceAccount is skipped and nothing is written.
func TestMigrateRefusesAnotherPartitionsARN(t *testing.T) {
	tf, roleARN := irsaLinked(t)
	cn := strings.Replace(roleARN, "arn:aws:", "arn:aws-cn:", 1)
	sa, err := tf.Kube.CoreV1().ServiceAccounts(ns).Get(context.Background(), saName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sa.Annotations[iamref.RoleARNAnnotation] = cn
	if _, err := tf.Kube.CoreV1().ServiceAccounts(ns).Update(context.Background(), sa, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := len(tf.Cloud.Writes())
	out, errOut, code := tf.Run("migrate", saName, "-n", ns)
	if code != 1 || !strings.Contains(out+errOut, "RoleMissing") || len(tf.Cloud.Writes()) != before || tf.Cloud.EKS.Association(ns, saName) != nil {
		t.Errorf("exit %d, writes %v\n%s%s", code, tf.Cloud.Writes()[before:], out, errOut)
	}
}

// runningPod is a running pod of the ServiceAccount with one container.
func runningPod(name, sa, container string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{ServiceAccountName: sa, Containers: []corev1.Container{{Name: container, Image: "app:1"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: container,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}}
}

// TestMigrateOldSDKInLogs: an SDK too old for Pod Identity in a pod's recent log skips the ServiceAccount; a log
// that cannot be read is noted on stderr (and in -o json), and does not hold the migration back.
func TestMigrateOldSDKInLogs(t *testing.T) {
	for _, c := range []struct {
		name, log string
		forbid    bool
		code      int
		stdout    []string
		stderr    string
	}{
		{name: "old SDK", log: "DEBUG: Request sts/GetCallerIdentity Details: User-Agent: aws-sdk-go/1.44.0 (go1.20; linux; amd64)\n", code: 1,
			stdout: []string{"skipped " + ns + "/" + saName, "PodIdentityOldSDK: container app of pod web-1 logs AWS SDK for Go v1 1.44.0"}},
		{name: "recent SDK", log: "User-Agent: aws-sdk-go/1.55.0 (go1.22; linux; amd64)\n", code: 0, stdout: []string{"migrated " + ns + "/" + saName}},
		{name: "log forbidden", forbid: true, code: 0, stdout: []string{"migrated " + ns + "/" + saName},
			stderr: "note: " + ns + "/" + saName + ": could not check the SDK versions in the log of container app of pod web-1: pods \"web-1\" is forbidden"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tf, _ := irsaLinked(t)
			_, _ = tf.Kube.CoreV1().Pods(ns).Create(context.Background(), runningPod("web-1", saName, "app"), metav1.CreateOptions{})
			logReads := 0
			tf.Kube.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
				if a.GetSubresource() != "log" {
					return false, nil, nil
				}
				logReads++
				if c.forbid {
					return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "web-1", errors.New(`cannot get resource "pods/log"`))
				}
				return true, &runtime.Unknown{Raw: []byte(c.log)}, nil
			})
			out, errOut, code := tf.Run("migrate", saName, "-n", ns)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s\n%s", code, c.code, out, errOut)
			}
			for _, w := range c.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if c.stderr != "" && !strings.Contains(errOut, c.stderr) || c.stderr == "" && strings.Contains(errOut, "could not check") {
				t.Errorf("stderr %q, want %q", errOut, c.stderr)
			}
			if logReads != 1 {
				t.Errorf("%d log reads, want 1 (one container of one pod)", logReads)
			}
			if c.code == 1 && len(tf.Cloud.Writes()) != 0 {
				t.Errorf("skipped migration wrote %v", tf.Cloud.Writes())
			}
		})
	}
	// -o json carries what could not be checked.
	tf, _ := irsaLinked(t)
	_, _ = tf.Kube.CoreV1().Pods(ns).Create(context.Background(), runningPod("web-1", saName, "app"), metav1.CreateOptions{})
	tf.Kube.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "log" {
			return false, nil, nil
		}
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "web-1", errors.New("denied"))
	})
	out, _, code := tf.Run("migrate", saName, "-n", ns, "-o", "json", "--dry-run")
	var list api.MigrationList
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 || len(list.Items) != 1 || len(list.Items[0].CouldNotCheck) != 1 {
		t.Errorf("json: %d %v %s", code, err, out)
	}
}

// TestMigrateNodeRoleInAccessEntries: a node role known only from an EC2_LINUX access entry (API mode, no
// aws-auth) without eks-auth:AssumeRoleForPodIdentity blocks; access entries that cannot be listed are noted.
func TestMigrateNodeRoleInAccessEntries(t *testing.T) {
	tf, _ := irsaLinked(t)
	tf.Cloud.EKS.AuthenticationMode = "API"
	tf.Cloud.IAM.AddRole("", "nodes", ec2Trust)
	tf.Cloud.EKS.AccessEntries = map[string]string{"arn:aws:iam::" + fakeaws.Account + ":role/nodes": "EC2_LINUX"}
	out, errOut, code := tf.Run("migrate", saName, "-n", ns)
	if code != 1 || !strings.Contains(out, "PodIdentityNodeRole: node role nodes (access entry)") || len(tf.Cloud.Writes()) != 0 {
		t.Fatalf("node role in access entry: %d %s %s %v", code, out, errOut, tf.Cloud.Writes())
	}
	tf.Cloud.Fail("ListAccessEntries", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: eks:ListAccessEntries"})
	out, errOut, code = tf.Run("migrate", saName, "-n", ns)
	if code != 0 || !strings.Contains(out, "migrated") || !strings.Contains(errOut, "could not check the node roles in EKS access entries (eks:ListAccessEntries test): AccessDeniedException") {
		t.Errorf("access entries denied: %d\n%s\n%s", code, out, errOut)
	}
}

// TestMigrateAllMissingNamespace: --all in a namespace that does not exist is an error naming it (exit 2), not
// "no ServiceAccount in scope uses IRSA" (issue 24 item 11).
func TestMigrateAllMissingNamespace(t *testing.T) {
	tf, _ := irsaLinked(t)
	_, errOut, code := tf.Run("migrate", "--all", "-n", "missing-namespace")
	if code != 2 || !strings.Contains(errOut, `namespace "missing-namespace" not found`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
