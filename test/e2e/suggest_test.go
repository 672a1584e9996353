package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// TestSuggestPolicyFixesRealDenial: in a sandbox whose moto enforces identity policies (Options.MotoAuth), a
// linked role's SQS SendMessage is really denied; doctor --suggest-policy reads that output and writes a policy;
// link --policy-file applies it; the same call then succeeds. SQS because moto evaluates its calls and its
// message names the action (moto's S3 answers only "Access Denied").
func TestSuggestPolicyFixesRealDenial(t *testing.T) {
	ctx := context.Background()
	asb, err := sandbox.Start(ctx, sandbox.Options{BinDir: sandbox.DefaultBinDir(), MotoAuth: true})
	if err != nil {
		t.Fatalf("sandbox with moto access control: %v", err)
	}
	defer asb.Stop()
	environ := []string{"PATH=" + pluginDir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	environ = append(environ, asb.Env()...)
	irsa := func(args ...string) result { return kubectl(t, environ, append([]string{"irsa"}, args...)...) }

	cfg, err := clientcmd.BuildConfigFromFlags("", asb.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	k := kubernetes.NewForConfigOrDie(cfg)
	ns := "suggest"
	if _, err := k.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The queue, made by the sandbox's admin (moto checks the admin's key too).
	mk := exec.Command("aws", "sqs", "create-queue", "--queue-name", "orders", "--endpoint-url", asb.AWSEndpoint)
	mk.Env = environ
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("create the queue: %v\n%s", err, out)
	}

	mustSucceed(t, irsa("link", "app", "-n", ns, "--role-name", "suggest-app", "--allow", "sts:GetCallerIdentity"))
	send := `aws sqs send-message --endpoint-url "$AWS_ENDPOINT_URL" --queue-url "$AWS_ENDPOINT_URL/` + sandbox.Account + `/orders" --message-body hello`
	r := irsa("test", "app", "-n", ns, "--", "sh", "-c", send)
	if r.code == 0 || !strings.Contains(r.stderr, "AccessDenied") || !strings.Contains(r.stderr, "sqs:SendMessage") {
		t.Fatalf("the role's SendMessage was not denied: %s", r)
	}

	dir := t.TempDir()
	logFile, policyFile := filepath.Join(dir, "app.log"), filepath.Join(dir, "policy.json")
	if err := os.WriteFile(logFile, []byte(r.stdout+r.stderr), 0o600); err != nil {
		t.Fatal(err)
	}
	r = mustSucceed(t, irsa("doctor", "--logs-file", logFile, "--suggest-policy"))
	var doc api.PolicyDocument
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("stdout is not the policy: %v\n%s", err, r)
	}
	if len(doc.Statement) != 1 || strings.Join(doc.Statement[0].Action, ",") != "sqs:SendMessage" || strings.Join(doc.Statement[0].Resource, ",") != "*" {
		t.Errorf("policy (moto's message names no resource, so *):\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "kubectl irsa link SERVICEACCOUNT -n NAMESPACE --role-name suggest-app --policy-file policy.json") {
		t.Errorf("no link command on stderr:\n%s", r.stderr)
	}
	if err := os.WriteFile(policyFile, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	// The target's form names the ServiceAccount and the role's ARN; -o json is the typed result.
	r = mustSucceed(t, irsa("doctor", "app", "-n", ns, "--logs-file", logFile, "--suggest-policy", "-o", "json"))
	var res api.PolicySuggestion
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Kind != "PolicySuggestion" || res.Role != "suggest-app" || res.Policy == nil ||
		res.LinkCommand != "kubectl irsa link app -n "+ns+" --role-arn arn:aws:iam::"+sandbox.Account+":role/suggest-app --policy-file policy.json" {
		t.Errorf("result: %+v", res)
	}

	mustSucceed(t, irsa("link", "app", "-n", ns, "--role-name", "suggest-app", "--policy-file", policyFile))
	r = irsa("test", "app", "-n", ns, "--", "sh", "-c", send)
	if r.code != 0 || !strings.Contains(r.stdout, "MessageId") {
		t.Errorf("SendMessage after linking the suggested policy: %s", r)
	}
}
