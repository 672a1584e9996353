package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// TestRetargetBlueGreen: two clusters A and B. On A, shop/cart and shop/worker are linked to role shop-app (IRSA)
// and shop/billing has a Pod Identity association with role shop-billing. On B only cart and billing exist (cart
// annotated as on A). A dry run writes nothing; retarget adds B's subjects (A's stay), creates B's provider and
// recreates billing's association on B; kubectl irsa test then passes on B for cart (IRSA, B's issuer) and billing
// (Pod Identity through EKS Auth of cluster B); --remove-old drops A's subjects; a re-run makes no AWS write. A
// denied read exits 2 with nothing written; a failed step rolls back and the next run completes.
func TestRetargetBlueGreen(t *testing.T) {
	ctx := context.Background()
	two, err := sandbox.Start(ctx, sandbox.Options{BinDir: sandbox.DefaultBinDir(), Clusters: 2})
	if err != nil {
		t.Fatalf("sandbox with two clusters: %v", err)
	}
	defer two.Stop()
	a, b := two.Clusters[0], two.Clusters[1]
	environ := []string{"PATH=" + pluginDir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	environ = append(environ, two.Env()...)
	irsa := func(args ...string) result {
		t.Helper()
		return kubectl(t, environ, append([]string{"irsa"}, args...)...)
	}
	kubeOf := func(context string) kubernetes.Interface {
		t.Helper()
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(&clientcmd.ClientConfigLoadingRules{ExplicitPath: two.Kubeconfig},
			&clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
		if err != nil {
			t.Fatal(err)
		}
		return kubernetes.NewForConfigOrDie(cfg)
	}
	kubeA, kubeB := kubeOf(a.Context), kubeOf(b.Context)
	awsCfg := aws.Config{Region: sandbox.Region, BaseEndpoint: aws.String(two.AWSEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, "")}
	iamc, eksc := iam.NewFromConfig(awsCfg), eks.NewFromConfig(awsCfg)
	trustOf := func(role string) *trust.Document {
		t.Helper()
		out, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
		if err != nil {
			t.Fatal(err)
		}
		d, err := trust.Parse(aws.ToString(out.Role.AssumeRolePolicyDocument))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	provA, provB := trust.NewProvider("aws", sandbox.Account, a.Issuer), trust.NewProvider("aws", sandbox.Account, b.Issuer)
	admits := func(d *trust.Document, p trust.Provider, sa string) bool {
		return d.Evaluate(trust.Claims{ProviderARN: p.ARN, HostPath: p.HostPath, Subject: trust.Subject("shop", sa), Audience: trust.DefaultAudience}).Verdict == trust.Admits
	}
	for _, k := range []kubernetes.Interface{kubeA, kubeB} {
		if _, err := k.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The Pod Identity Agent on both clusters (its DaemonSet lands on each cluster's own API server).
	for _, c := range two.Clusters {
		if _, err := eksc.CreateAddon(ctx, &eks.CreateAddonInput{ClusterName: aws.String(c.Name), AddonName: aws.String(sandbox.PodIdentityAgentAddon)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kubeB.AppsV1().DaemonSets("kube-system").Get(ctx, sandbox.PodIdentityAgentAddon, metav1.GetOptions{}); err != nil {
		t.Fatalf("the agent add-on of %s has no DaemonSet on its API server: %v", b.Name, err)
	}

	mustSucceed(t, irsa("link", "cart", "-n", "shop", "--role-name", "shop-app", "--allow", "s3:GetObject", "--create-service-account"))
	mustSucceed(t, irsa("link", "worker", "-n", "shop", "--role-name", "shop-app", "--create-service-account"))
	mustSucceed(t, irsa("link", "billing", "-n", "shop", "--role-name", "shop-billing", "--pod-identity", "--allow", "s3:GetObject"))
	roleARN := "arn:aws:iam::" + sandbox.Account + ":role/shop-app"
	for _, sa := range []*corev1.ServiceAccount{
		{ObjectMeta: metav1.ObjectMeta{Name: "cart", Namespace: "shop", Annotations: map[string]string{"eks.amazonaws.com/role-arn": roleARN}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "billing", Namespace: "shop"}},
	} {
		if _, err := kubeB.CoreV1().ServiceAccounts("shop").Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Before the retarget, cart cannot get credentials on B: B's issuer is not trusted.
	if r := irsa("test", "cart", "-n", "shop", "--context", b.Context); r.code != 1 {
		t.Fatalf("test on B before the retarget should fail: %s", r)
	}

	two.AWS.Reset()
	r := mustSucceed(t, irsa("retarget", "--from-context", a.Context, "--to-context", b.Context, "-A", "--dry-run"))
	if w := two.AWS.Writes(); len(w) != 0 {
		t.Fatalf("--dry-run wrote %v\n%s", w, r)
	}
	for _, want := range []string{"+ oidc-provider/" + provB.HostPath, "~ role/shop-app: trust: add " + trust.Subject("shop", "cart"), "+ podidentityassociation/shop/billing"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry-run plan lacks %q:\n%s", want, r)
		}
	}

	// A read that fails is "could not check" (exit 2), with nothing written.
	remove := two.AWS.InjectFault(sandbox.Fault{Operation: "eks:ListPodIdentityAssociations"})
	r = irsa("retarget", "--from-context", a.Context, "--to-context", b.Context, "-A")
	remove()
	if r.code != 2 || !strings.Contains(r.stderr, "could not check") || len(two.AWS.Writes()) != 0 {
		t.Fatalf("denied association list: want exit 2, could not check, no write; got writes %v\n%s", two.AWS.Writes(), r)
	}
	// A step that fails rolls back what the run wrote (the trust, the provider); the next run does it all.
	remove = two.AWS.InjectFault(sandbox.Fault{Operation: "eks:CreatePodIdentityAssociation"})
	r = irsa("retarget", "--from-context", a.Context, "--to-context", b.Context, "shop-app", "shop-billing")
	remove()
	if r.code != 1 || !strings.Contains(r.stderr, "rolled back") || admits(trustOf("shop-app"), provB, "cart") {
		t.Fatalf("failed association: want exit 1 and the trust rolled back:\n%s\n%s", r, trustOf("shop-app").Indent())
	}

	// Ctrl-C while the association is being created: the run rolls back what it wrote and exits 130 (or names
	// what it leaves); the next run completes either way.
	arrived, release := two.AWS.InjectDelay(sandbox.Delay{Operation: "eks:CreatePodIdentityAssociation", Wait: 2 * time.Second})
	cmd := exec.Command("kubectl", "irsa", "retarget", "--from-context", a.Context, "--to-context", b.Context, "shop-app", "shop-billing")
	cmd.Env = environ
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
		_ = cmd.Process.Signal(syscall.SIGINT)
	case <-time.After(90 * time.Second):
		t.Fatal("retarget never created the association")
	}
	err = cmd.Wait()
	release()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 130 {
		t.Fatalf("interrupted retarget: %v, want exit 130\n%s", err, stderr.String())
	}
	// Either the run rolled back (B's subject gone) or the signal came during its last write, which finished:
	// then every write was made and the run says so; never a half-done run that says nothing.
	whole := strings.Contains(stderr.String(), "every write of the plan was made")
	switch b := admits(trustOf("shop-app"), provB, "cart"); {
	case whole && !b:
		t.Fatalf("interrupted retarget says every write was made, but B's subject is missing:\n%s", stderr.String())
	case !whole && b && !strings.Contains(stderr.String(), "left as written") && !strings.Contains(stderr.String(), "ROLLBACK FAILED"):
		t.Fatalf("interrupted retarget left B's subject and says nothing is left:\n%s", stderr.String())
	}
	t.Logf("interrupted retarget: %s", stderr.String())

	r = mustSucceed(t, irsa("retarget", "--from-context", a.Context, "--to-context", b.Context, "shop-app", "shop-billing", "-o", "json"))
	var res api.RetargetResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("not a RetargetResult: %v\n%s", err, r)
	}
	verdicts := map[string]string{}
	for _, role := range res.Roles {
		for _, tr := range role.Tests {
			verdicts[tr.Namespace+"/"+tr.ServiceAccount] = tr.Verdict
		}
	}
	if verdicts["shop/cart"] != "pass" || verdicts["shop/worker"] != "skipped" || verdicts["shop/billing"] != "pass" {
		t.Errorf("tests on B: %v\n%s", verdicts, r)
	}
	if _, err := iamc.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provB.ARN)}); err != nil {
		t.Errorf("B's provider: %v", err)
	}
	d := trustOf("shop-app")
	for _, sa := range []string{"cart", "worker"} {
		if !admits(d, provB, sa) || !admits(d, provA, sa) {
			t.Errorf("after retarget, trust should admit %s through A and B:\n%s", sa, d.Indent())
		}
	}
	list, err := eksc.ListPodIdentityAssociations(ctx, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(b.Name), Namespace: aws.String("shop"), ServiceAccount: aws.String("billing")})
	if err != nil || len(list.Associations) != 1 {
		t.Fatalf("billing's association on B: %v %+v", err, list)
	}
	desc, err := eksc.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(b.Name), AssociationId: list.Associations[0].AssociationId})
	if err != nil || !strings.HasSuffix(aws.ToString(desc.Association.RoleArn), ":role/shop-billing") {
		t.Fatalf("billing's association on B: %v %+v", err, desc)
	}
	mustSucceed(t, irsa("test", "cart", "-n", "shop", "--context", b.Context))
	mustSucceed(t, irsa("test", "billing", "-n", "shop", "--context", b.Context))

	// worker is not on B yet: its workload still runs on A, so --remove-old keeps A's subjects of its role.
	r = mustSucceed(t, irsa("retarget", "--from-context", a.Context, "--to-context", b.Context, "-A", "--remove-old"))
	if d = trustOf("shop-app"); !admits(d, provA, "worker") || !strings.Contains(r.stderr, "old subjects kept: shop/worker is not on the new cluster") {
		t.Errorf("--remove-old with worker not on B should keep A's subjects and say why:\n%s\n%s", d.Indent(), r)
	}
	if _, err := kubeB.CoreV1().ServiceAccounts("shop").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "worker", Namespace: "shop",
		Annotations: map[string]string{"eks.amazonaws.com/role-arn": roleARN}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r = mustSucceed(t, irsa("retarget", "--from-context", a.Context, "--to-context", b.Context, "-A", "--remove-old"))
	d = trustOf("shop-app")
	for _, sa := range []string{"cart", "worker"} {
		if !admits(d, provB, sa) || admits(d, provA, sa) {
			t.Errorf("after --remove-old, trust should admit %s through B only:\n%s\n%s", sa, d.Indent(), r)
		}
	}

	two.AWS.Reset()
	r = mustSucceed(t, irsa("retarget", "--from-context", a.Context, "--to-context", b.Context, "-A", "--remove-old"))
	if w := two.AWS.Writes(); len(w) != 0 {
		t.Errorf("re-run wrote %v\n%s", w, r)
	}
	if !strings.Contains(r.stdout, "unchanged") {
		t.Errorf("re-run should say unchanged:\n%s", r)
	}
}
