package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

const piNoTagSessionTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// associate creates an EKS Pod Identity association through the sandbox's EKS emulator with the real EKS
// client; the test's end deletes it.
func associate(t *testing.T, ns, sa, roleARN string) string {
	t.Helper()
	ctx := context.Background()
	client := eksClient()
	out, err := client.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName),
		Namespace: aws.String(ns), ServiceAccount: aws.String(sa), RoleArn: aws.String(roleARN)})
	if err != nil {
		t.Fatalf("associate %s/%s: %v", ns, sa, err)
	}
	id := aws.ToString(out.Association.AssociationId)
	t.Cleanup(func() {
		_, _ = client.DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: aws.String(id)})
	})
	return id
}

func plainPod(ns, name, sa string, env ...corev1.EnvVar) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{ServiceAccountName: sa, Containers: []corev1.Container{{Name: "app", Image: "amazon/aws-cli:2.22.0", Env: env}}}}
}

// setupPodIdentityNamespace builds real misconfigurations in namespace piread, each in its own ServiceAccount:
// good (association, injected pod), stale (pod admitted before the association), ghost (association whose
// role was deleted), notag (role whose trust lost sts:TagSession after the association), split (annotation
// and association on different roles), proxy (HTTPS_PROXY without NO_PROXY for the agent), fargate.
func setupPodIdentityNamespace(t *testing.T) (ns, goodRole string) {
	ctx := context.Background()
	ns = "piread"
	createNamespace(t, ns)
	for _, sa := range []string{"good", "stale", "ghost", "notag", "split", "proxy", "fargate"} {
		createServiceAccount(t, ns, sa, nil)
	}
	goodRole = createPodIdentityRole(t, "piread-good")
	notagRole := createPodIdentityRole(t, "piread-notag")
	ghostRole := createPodIdentityRole(t, "piread-ghost")
	irsaRole := createRole(t, "piread-irsa", podIdentityTrust)

	stale := createPlainPod(t, plainPod(ns, "stale-1", "stale"))
	for _, sa := range []string{"good", "stale", "split", "proxy", "fargate"} {
		associate(t, ns, sa, goodRole)
	}
	associate(t, ns, "notag", notagRole)
	associate(t, ns, "ghost", ghostRole)
	annotateServiceAccount(t, ns, "split", "eks.amazonaws.com/role-arn", irsaRole)
	if _, err := iamClient.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("piread-notag"), PolicyDocument: aws.String(piNoTagSessionTrust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamClient.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("piread-ghost")}); err != nil {
		t.Fatal(err)
	}
	good := createPlainPod(t, plainPod(ns, "good-1", "good"))
	if !slices.Contains(envNames(good.Spec.Containers[0]), "AWS_CONTAINER_CREDENTIALS_FULL_URI") || slices.Contains(envNames(stale.Spec.Containers[0]), "AWS_CONTAINER_CREDENTIALS_FULL_URI") {
		t.Fatalf("webhook: good %v, stale %v", envNames(good.Spec.Containers[0]), envNames(stale.Spec.Containers[0]))
	}
	createPlainPod(t, plainPod(ns, "split-1", "split"))
	createPlainPod(t, plainPod(ns, "proxy-1", "proxy", corev1.EnvVar{Name: "HTTPS_PROXY", Value: "http://proxy.corp:3128"}, corev1.EnvVar{Name: "NO_PROXY", Value: "localhost,.svc"}))
	fargate := plainPod(ns, "fargate-1", "fargate")
	fargate.Spec.SchedulerName = "fargate-scheduler"
	createPlainPod(t, fargate)
	return ns, goodRole
}

func TestPodIdentityReadSide(t *testing.T) {
	ns, _ := setupPodIdentityNamespace(t)

	t.Run("doctor", func(t *testing.T) {
		counter.Reset()
		rep, r := doctorJSON(t, "-n", ns)
		// One association list for the scope, one Describe per association (7), one GetRole per distinct role
		// (4), one DescribeAddon: the agent's DaemonSet is not there.
		for op, want := range map[string]int{"eks:ListPodIdentityAssociations": 1, "eks:DescribePodIdentityAssociation": 7, "iam:GetRole": 4, "eks:DescribeAddon": 1} {
			if n := countCalls(op); n != want {
				t.Errorf("%s called %d times, want %d (calls %v)", op, n, want, counter.Calls())
			}
		}
		if r.code != 1 {
			t.Errorf("doctor exit %d: %s", r.code, r)
		}
		for _, want := range [][2]string{
			{"PodIdentityAgentMissing", "cluster"}, {"PodIdentityNotInjected", "pod/piread/stale-1"}, {"PodIdentityRoleMissing", "role/piread-ghost"},
			{"PodIdentityTrustInvalid", "role/piread-notag"}, {"BothMechanisms", "pod/piread/split-1"}, {"PodIdentityProxy", "pod/piread/proxy-1"},
			{"PodIdentityUnsupportedCompute", "pod/piread/fargate-1"},
		} {
			if !hasFinding(rep, want[0], want[1]) {
				t.Errorf("missing %s on %s: %v", want[0], want[1], findingIDs(rep))
			}
		}
		for _, f := range rep.Findings {
			if f.ID == "PodNotInjected" || f.ID == "NotAnnotated" || strings.HasSuffix(f.Target, "/good-1") {
				t.Errorf("Pod Identity pod misjudged: %s %s: %s", f.ID, f.Target, f.Summary)
			}
		}
		if len(rep.CouldNotCheck) > 0 {
			t.Errorf("could not check: %v", rep.CouldNotCheck)
		}
		// The agent add-on (which creates its DaemonSet) clears PodIdentityAgentMissing.
		client := eksClient()
		if _, err := client.CreateAddon(context.Background(), &eks.CreateAddonInput{ClusterName: aws.String(sandbox.ClusterName), AddonName: aws.String(sandbox.PodIdentityAgentAddon)}); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_, _ = client.DeleteAddon(context.Background(), &eks.DeleteAddonInput{ClusterName: aws.String(sandbox.ClusterName), AddonName: aws.String(sandbox.PodIdentityAgentAddon)})
		}()
		rep, _ = doctorJSON(t, "pod/good-1", "-n", ns)
		if len(rep.Findings) != 0 {
			t.Errorf("good pod with the agent installed: %+v", rep.Findings)
		}
	})

	t.Run("list", func(t *testing.T) {
		r := irsaCmd(t, "list", "-n", ns, "-o", "json")
		var res inspect.ListResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
			t.Fatalf("%v: %s", err, r)
		}
		var rows []string
		for _, it := range res.Items {
			rows = append(rows, strings.Join([]string{it.ServiceAccount, it.Mechanism, it.RoleName, it.RoleExists, it.TrustAdmits}, " "))
			if it.ServiceAccount == "stale" && it.PodsNotInjected != 1 || it.ServiceAccount == "good" && it.PodsNotInjected != 0 {
				t.Errorf("not injected: %+v", it)
			}
		}
		for _, want := range []string{"good pod-identity piread-good yes yes", "ghost pod-identity piread-ghost no no", "notag pod-identity piread-notag yes no",
			"split irsa piread-irsa yes no", "split pod-identity piread-good yes yes"} {
			if !slices.Contains(rows, want) {
				t.Errorf("missing row %q in %q", want, rows)
			}
		}
		human := irsaCmd(t, "list", "-n", ns)
		if !strings.Contains(human.stdout, "MECHANISM") || !strings.Contains(human.stdout, "pod-identity") {
			t.Errorf("human list: %s", human)
		}
	})

	t.Run("audit", func(t *testing.T) {
		r := irsaCmd(t, "audit", "-n", ns, "-o", "json")
		var rep inspect.AuditReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("%v: %s", err, r)
		}
		if r.code != 1 {
			t.Errorf("audit exit %d", r.code)
		}
		has := func(id, target string) bool {
			return slices.ContainsFunc(rep.Findings, func(f doctor.Finding) bool { return f.ID == id && f.Target == target })
		}
		for _, want := range [][2]string{{"PodIdentityRoleMissing", "serviceaccount/piread/ghost"}, {"MechanismConflict", "serviceaccount/piread/split"}, {"PodIdentityNoTagSession", "role/piread-notag"}} {
			if !has(want[0], want[1]) {
				t.Errorf("missing %s on %s: %+v", want[0], want[1], rep.Findings)
			}
		}
		if has("PodIdentityNoTagSession", "role/piread-good") {
			t.Error("good role reported")
		}
	})

	t.Run("test", func(t *testing.T) {
		ctx := context.Background()
		// A running pod of the ServiceAccount: the token is bound to it, as the projected token is.
		pod, err := kube.CoreV1().Pods(ns).Get(ctx, "good-1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pod.Status.Phase = corev1.PodRunning
		if _, err := kube.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		counter.Reset()
		r := irsaCmd(t, "test", "good", "-n", ns)
		assertNoJWT(t, r)
		if r.code != 0 || !strings.Contains(r.stdout, "PASS") || !strings.Contains(r.stdout, "eks-auth:AssumeRoleForPodIdentity: ok") ||
			!strings.Contains(r.stdout, "assumed: arn:aws:sts::123456789012:assumed-role/piread-good/eks-irsa-sandbox-good-1-") ||
			!strings.Contains(r.stdout, "bound to pod good-1") || !strings.Contains(r.stdout, "kubernetes-pod-name=good-1") {
			t.Errorf("good association: %s", r)
		}
		calls := counter.Calls()
		if !slices.Contains(calls, "eks-auth:AssumeRoleForPodIdentity") || !slices.Contains(calls, "sts:GetCallerIdentity") || slices.Contains(calls, "sts:AssumeRoleWithWebIdentity") {
			t.Errorf("calls %v", calls)
		}
		if strings.Contains(r.stdout+r.stderr, "ASIA") {
			t.Errorf("credentials printed: %s", r)
		}
		run := irsaCmd(t, "test", "good", "-n", ns, "--", "sh", "-c", `test -n "$AWS_SESSION_TOKEN" && echo has-credentials`)
		if run.code != 0 || strings.TrimSpace(run.stdout) != "has-credentials" {
			t.Errorf("-- COMMAND: %s", run)
		}

		for sa, id := range map[string]string{"ghost": "PodIdentityRoleMissing", "notag": "PodIdentityTrustInvalid"} {
			r := irsaCmd(t, "test", sa, "-n", ns)
			assertNoJWT(t, r)
			if r.code != 1 || !strings.Contains(r.stderr, id) {
				t.Errorf("%s: want %s: %s", sa, id, r)
			}
		}

		remove := sb.AWS.InjectFault(sandbox.Fault{Operation: "eks-auth:AssumeRoleForPodIdentity", Message: "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: eks-auth:AssumeRoleForPodIdentity"})
		defer remove()
		r = irsaCmd(t, "test", "good", "-n", ns)
		if r.code != 2 || !strings.Contains(r.stdout, "NOT PROVEN") || !strings.Contains(r.stderr, "eks-auth:AssumeRoleForPodIdentity") {
			t.Errorf("caller denied EKS Auth: %s", r)
		}
	})
}
