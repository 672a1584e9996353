package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
)

// seedLog is what the seed guide's aws-cli Job prints before the ServiceAccount is annotated.
const seedLog = `
An error occurred (AccessDeniedException) when calling the ListClusters operation: User: arn:aws:sts::123456789012:assumed-role/eksctl-irsa-sandbox-nodegroup-NodeInstanceRole-1X2Y3Z/i-0a1b2c3d4e5f67890 is not authorized to perform: eks:ListClusters on resource: arn:aws:eks:us-east-1:123456789012:cluster/*
`

func writeLog(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// doctorJSON runs doctor -o json and returns the report and exit code.
func doctorJSON(t *testing.T, args ...string) (inspect.DoctorReport, result) {
	t.Helper()
	r := irsaCmd(t, append([]string{"doctor", "-o", "json"}, args...)...)
	var rep inspect.DoctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("doctor -o json: %v\n%s", err, r)
	}
	return rep, r
}

func findingIDs(rep inspect.DoctorReport) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.ID)
	}
	return out
}

func hasFinding(rep inspect.DoctorReport, id, target string) bool {
	for _, f := range rep.Findings {
		if f.ID == id && (target == "" || strings.Contains(f.Target, target)) {
			return true
		}
	}
	return false
}

// injectedPodSpec is a plain pod of the ServiceAccount sa, whose role is role: the sandbox's pod identity webhook
// injects AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and the token volume at creation, as on EKS.
func injectedPodSpec(sa, role string) corev1.PodSpec {
	_ = role // injected by the webhook from the ServiceAccount's annotation
	return corev1.PodSpec{ServiceAccountName: sa, Containers: []corev1.Container{{Name: "app", Image: "amazon/aws-cli:2.15.0"}}}
}

func createPod(t *testing.T, ns, name string, spec corev1.PodSpec) {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if _, err := kube.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestDoctorSeedFirstIteration: SA not annotated, the seed's AccessDenied log.
func TestDoctorSeedFirstIteration(t *testing.T) {
	createNamespace(t, "doc-seed")
	createServiceAccount(t, "doc-seed", "irsa-test", nil)
	log := writeLog(t, seedLog)
	rep, r := doctorJSON(t, "irsa-test", "-n", "doc-seed", "--logs-file", log)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	for _, id := range []string{"NodeRoleFallback", "NotAnnotated"} {
		if !hasFinding(rep, id, "") {
			t.Errorf("missing %s: %v", id, findingIDs(rep))
		}
	}
	for _, f := range rep.Findings {
		if f.ID == "NotAnnotated" && f.Fix != "kubectl irsa link irsa-test -n doc-seed --allow eks:ListClusters" {
			t.Errorf("fix = %q", f.Fix)
		}
	}
	// Human output groups by check and shows the fix; stdin works as --logs-file -.
	cmd := kubectl(t, env(), "irsa", "doctor", "irsa-test", "-n", "doc-seed", "--logs-file", log)
	if !strings.Contains(cmd.stdout, "fix: kubectl irsa link irsa-test -n doc-seed --allow eks:ListClusters") || !strings.Contains(cmd.stdout, "\nlogs\n") {
		t.Errorf("human output:\n%s", cmd.stdout)
	}
	// Logs only: no Kubernetes or AWS call at all (a broken kubeconfig and endpoint do not matter).
	counter.Reset()
	only := kubectl(t, env("KUBECONFIG=/nonexistent", "AWS_ENDPOINT_URL=http://127.0.0.1:1"), "irsa", "doctor", "--logs-file", log, "-o", "json", "-v=6")
	if only.code != 1 || !strings.Contains(only.stdout, `"NodeRoleFallback"`) || len(counter.Calls()) != 0 || strings.Contains(only.stderr, "GET https://") {
		t.Errorf("logs-only run: %s (AWS calls %v)", only, counter.Calls())
	}
}

// TestDoctorLiveChecks covers PodNotInjected, PermissionMissing, TrustMismatch, StaticCredentials and the
// namespace scan.
func TestDoctorLiveChecks(t *testing.T) {
	ns := "doc-live"
	createNamespace(t, ns)
	for _, sa := range []string{"stale", "worker", "other", "static"} {
		createServiceAccount(t, ns, sa, nil)
	}
	// A pod created before the annotation: the webhook had nothing to inject.
	createPod(t, ns, "stale-1", corev1.PodSpec{ServiceAccountName: "stale", Containers: []corev1.Container{{Name: "app", Image: "busybox"}}})
	mustSucceed(t, irsaCmd(t, "link", "stale", "-n", ns, "--role-name", "doc-stale"))
	mustSucceed(t, irsaCmd(t, "link", "worker", "-n", ns, "--role-name", "doc-worker", "--allow", "eks:ListClusters"))
	mustSucceed(t, irsaCmd(t, "link", "static", "-n", ns, "--role-name", "doc-static"))

	rep, r := doctorJSON(t, "pod/stale-1", "-n", ns)
	if r.code != 1 || !hasFinding(rep, "PodNotInjected", "pod/doc-live/stale-1") {
		t.Errorf("stale pod: %v\n%s", findingIDs(rep), r)
	}

	// A correctly injected pod whose role lacks s3:GetObject.
	workerRole := "arn:aws:iam::" + account + ":role/doc-worker"
	createPod(t, ns, "worker-1", injectedPodSpec("worker", workerRole))
	denied := writeLog(t, `{"level":"error","msg":"read failed","error":"operation error S3: GetObject, https response error StatusCode: 403, RequestID: 4X2, HostID: abc, api error AccessDenied: User: arn:aws:sts::123456789012:assumed-role/doc-worker/aws-go-sdk-1700000000 is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::bucket/key\" because no identity-based policy allows the s3:GetObject action"}`)
	rep, r = doctorJSON(t, "pod/worker-1", "-n", ns, "--logs-file", denied)
	if r.code != 1 || !hasFinding(rep, "PermissionMissing", "role/doc-worker") {
		t.Errorf("worker: %v\n%s", findingIDs(rep), r)
	}
	for _, f := range rep.Findings {
		switch f.ID {
		case "NotAnnotated", "PodNotInjected", "TrustMismatch", "RoleMissing", "NoOIDCProvider", "RoleMismatch", "WebhookMissing":
			t.Errorf("wiring error reported for a correctly wired pod: %+v", f)
		case "PermissionMissing":
			if f.Target == "role/doc-worker" && (!strings.Contains(f.Summary, "s3:GetObject") || !strings.Contains(f.Fix, "--allow s3:GetObject")) {
				t.Errorf("PermissionMissing does not name the action: %+v", f)
			}
		}
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "evaluated locally") }) {
		t.Errorf("notes do not say how permissions were decided: %v", rep.Notes)
	}

	// Trust for another ServiceAccount: the role's trust names worker, "other" is annotated with it.
	mustSucceed(t, irsaCmd(t, "annotate", "other", "-n", ns, "--role-arn", workerRole))
	rep, _ = doctorJSON(t, "other", "-n", ns)
	if !hasFinding(rep, "TrustMismatch", "role/doc-worker") {
		t.Errorf("trust for another SA: %v", findingIDs(rep))
	}
	for _, f := range rep.Findings {
		if f.ID == "TrustMismatch" {
			ev := strings.Join(f.Evidence, "\n")
			if !strings.Contains(ev, "system:serviceaccount:doc-live:worker") || !strings.Contains(ev, "sub=system:serviceaccount:doc-live:other") {
				t.Errorf("TrustMismatch does not show both sides:\n%s", ev)
			}
		}
	}

	// Static keys in the pod: reported, the secret never printed.
	spec := injectedPodSpec("static", "arn:aws:iam::"+account+":role/doc-static")
	spec.Containers[0].Env = append(spec.Containers[0].Env,
		corev1.EnvVar{Name: "AWS_ACCESS_KEY_ID", Value: "AKIAIOSFODNN7EXAMPLE"},
		corev1.EnvVar{Name: "AWS_SECRET_ACCESS_KEY", Value: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRET"})
	createPod(t, ns, "static-1", spec)
	rep, r = doctorJSON(t, "pod/static-1", "-n", ns)
	if !hasFinding(rep, "StaticCredentials", "pod/doc-live/static-1") {
		t.Errorf("static keys: %v", findingIDs(rep))
	}
	human := irsaCmd(t, "doctor", "pod/static-1", "-n", ns, "-v=9")
	for _, out := range []string{r.stdout, r.stderr, human.stdout, human.stderr} {
		if strings.Contains(out, "wJalrXUtnFEMI") || strings.Contains(out, "AKIAIOSFODNN7EXAMPLE") {
			t.Errorf("credential printed:\n%s", out)
		}
	}

	// The namespace scan reports every broken ServiceAccount.
	rep, r = doctorJSON(t, "-n", ns)
	if r.code != 1 {
		t.Errorf("scan exit %d", r.code)
	}
	for _, want := range [][2]string{{"PodNotInjected", "stale-1"}, {"TrustMismatch", "doc-worker"}, {"StaticCredentials", "static-1"}} {
		if !hasFinding(rep, want[0], want[1]) {
			t.Errorf("scan misses %s on %s: %v", want[0], want[1], findingIDs(rep))
		}
	}
}

// TestDoctorIssuerURLPrincipalAndMissingProvider: the seed guide's Terraform mistake, then a deleted provider.
func TestDoctorIssuerURLPrincipalAndMissingProvider(t *testing.T) {
	ns := "doc-iam"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + account + ":role/doc-url-role"})
	hp := provider().HostPath
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + sb.Issuer + `"},"Action":"sts:AssumeRoleWithWebIdentity",` +
		`"Condition":{"StringEquals":{"` + hp + `:sub":"system:serviceaccount:doc-iam:app","` + hp + `:aud":"sts.amazonaws.com"}}}]}`
	if _, err := iamClient.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String("doc-url-role"), AssumeRolePolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	// The provider exists (created by earlier links or here).
	mustSucceed(t, irsaCmd(t, "provider", "create"))
	rep, _ := doctorJSON(t, "app", "-n", ns)
	found := false
	for _, f := range rep.Findings {
		if f.ID == "TrustMismatch" && strings.Contains(strings.Join(f.Evidence, " "), provider().ARN) && strings.Contains(strings.Join(f.Evidence, " "), "issuer URL") {
			found = true
		}
	}
	if !found {
		t.Errorf("issuer URL principal not flagged with the provider ARN to use: %+v", rep.Findings)
	}

	// Delete the provider (restored afterwards for the other tests).
	arn := provider().ARN
	if _, err := iamClient.DeleteOpenIDConnectProvider(context.Background(), &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mustSucceed(t, irsaCmd(t, "provider", "create")) })
	rep, r := doctorJSON(t, "app", "-n", ns)
	if r.code != 1 || !hasFinding(rep, "NoOIDCProvider", "") {
		t.Errorf("deleted provider: %v\n%s", findingIDs(rep), r)
	}
	for _, f := range rep.Findings {
		if f.ID == "NoOIDCProvider" && f.Fix != "kubectl irsa provider create" {
			t.Errorf("fix = %q", f.Fix)
		}
	}
}

// TestDoctorNodeRoleFromAwsAuth: a denied role that only aws-auth shows to be the nodes' role.
func TestDoctorNodeRoleFromAwsAuth(t *testing.T) {
	ns := "doc-awsauth"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "aws-auth", Namespace: "kube-system"}, Data: map[string]string{
		"mapRoles": "- rolearn: arn:aws:iam::123456789012:role/payments-platform\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n",
	}}
	if _, err := kube.CoreV1().ConfigMaps("kube-system").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = kube.CoreV1().ConfigMaps("kube-system").Delete(context.Background(), "aws-auth", metav1.DeleteOptions{})
	})
	log := writeLog(t, "AccessDenied: User: arn:aws:sts::123456789012:assumed-role/payments-platform/1700000000000000000 is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:123456789012:q\n\tstatus code: 403, request id: 1\n")

	// Without the cluster's help the name says nothing: PermissionMissing.
	only, _ := doctorJSON(t, "--logs-file", log)
	if !hasFinding(only, "PermissionMissing", "") {
		t.Errorf("logs only: %v", findingIDs(only))
	}
	rep, _ := doctorJSON(t, "app", "-n", ns, "--logs-file", log)
	if !hasFinding(rep, "NodeRoleFallback", "") || hasFinding(rep, "PermissionMissing", "") {
		t.Errorf("aws-auth node role not recognised: %v", findingIDs(rep))
	}
}

// TestDoctorWebhook: WebhookMissing joins PodNotInjected only when no pod identity webhook is installed.
func TestDoctorWebhook(t *testing.T) {
	ns := "doc-hook"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)
	createPod(t, ns, "old", corev1.PodSpec{ServiceAccountName: "app", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}})
	annotateServiceAccount(t, ns, "app", iamref.RoleARNAnnotation, "arn:aws:iam::"+account+":role/doc-hook")
	// A cluster without the webhook: the sandbox's is unregistered for this test.
	if err := sb.Webhook.Unregister(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Webhook.Register(context.Background()); err != nil {
			t.Error(err)
		}
	})
	rep, _ := doctorJSON(t, "pod/old", "-n", ns)
	if !hasFinding(rep, "PodNotInjected", "") || !hasFinding(rep, "WebhookMissing", "") {
		t.Errorf("without webhook: %v", findingIDs(rep))
	}
	// A webhook configuration as EKS installs it; the selector matches no pod, so the API server never calls it.
	none := admissionregistrationv1.SideEffectClassNone
	ignore := admissionregistrationv1.Ignore
	hook := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-identity-webhook"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    "iam-for-pods.amazonaws.com",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: aws.String("https://127.0.0.1:1/mutate")},
			SideEffects:             &none,
			FailurePolicy:           &ignore,
			AdmissionReviewVersions: []string{"v1"},
			ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{"never": "matches"}},
		}},
	}
	if _, err := kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(context.Background(), hook, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(context.Background(), hook.Name, metav1.DeleteOptions{})
	})
	rep, _ = doctorJSON(t, "pod/old", "-n", ns)
	if !hasFinding(rep, "PodNotInjected", "") || hasFinding(rep, "WebhookMissing", "") {
		t.Errorf("with webhook: %v", findingIDs(rep))
	}
}
