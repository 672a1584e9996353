package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin"
)

const (
	scaleRoles      = 1000
	scaleNamespaces = 10
	scalePods       = 200
	// scaleAWSBound is issue 16's bound on the AWS calls of list -A, doctor -A and audit -A at fleet size.
	scaleAWSBound = 12
)

// perRole forces the read commands to read every role with its own GetRole (and audit to read each role's
// policies role by role): plugin.RoleListThresholdEnv set above any fleet, so results can be compared with the
// listing's on the same fleet.
var perRole = plugin.RoleListThresholdEnv + "=100000"

// TestScaleReadsAtFleetSize: on 1,000 distinct roles (one ServiceAccount each, in 10 namespaces, half of the
// trusts naming another ServiceAccount, 200 pods), list -A, doctor -A and audit -A make at most 12 AWS calls,
// Kubernetes requests only per 500-item page, and list and audit return exactly what the per-role path does.
func TestScaleReadsAtFleetSize(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	createScaleFleet(t)
	t.Logf("created %d roles, %d ServiceAccounts and %d pods in %s", scaleRoles, scaleRoles, scalePods, time.Since(start).Round(time.Millisecond))

	run := func(environ []string, args ...string) (result, []string) {
		counter.Reset()
		r := kubectl(t, environ, append([]string{"irsa"}, args...)...)
		if r.code == 2 {
			t.Fatalf("%v could not complete: %s", args, r)
		}
		return r, counter.Calls()
	}
	byAction := func(calls []string) map[string]int {
		n := map[string]int{}
		for _, c := range calls {
			n[c]++
		}
		return n
	}
	// The SAs and pods of the whole sandbox (other tests' too), for the page bound.
	sas, err := kube.CoreV1().ServiceAccounts("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods, err := kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pages := (len(sas.Items)+499)/500 + (len(pods.Items)+499)/500

	list, listCalls := run(env(), "list", "-A", "-o", "json", "-v=6")
	listed, inScale := decodeList(t, list.stdout), 0
	others := map[string]bool{} // roles of other tests' ServiceAccounts: some missing, some in another account
	for _, it := range listed.Items {
		if strings.HasPrefix(it.Namespace, "scale-") {
			inScale++
		} else {
			others[it.RoleARN] = true
		}
	}
	if inScale != scaleRoles {
		t.Fatalf("list -A shows %d of the %d scale ServiceAccounts", inScale, scaleRoles)
	}
	t.Logf("list -A: %d AWS calls %v, %d Kubernetes requests (%d pages)", len(listCalls), byAction(listCalls), kubeRequests(list), pages)
	// GetRole only for roles the listing cannot give: none of the scale fleet's.
	// Other tests' ServiceAccounts (roles missing or in another account) cost one GetRole each on top of the
	// fleet's bound; the 1,000 scale roles cost nothing per role.
	bound := scaleAWSBound + len(others)
	if len(listCalls) > bound || byAction(listCalls)["iam:GetRole"] > len(others) {
		t.Errorf("list -A made %d AWS calls, want at most %d (%d + %d other tests' roles): %v", len(listCalls), bound, scaleAWSBound, len(others), byAction(listCalls))
	}
	// Two lists (ServiceAccounts, pods) of 500-item pages, and the webhook configurations.
	if n := kubeRequests(list); n > pages+2 {
		t.Errorf("list -A made %d Kubernetes requests for %d pages", n, pages)
	}
	slow, slowCalls := run(env(perRole), "list", "-A", "-o", "json")
	if n := byAction(slowCalls)["iam:GetRole"]; n < scaleRoles {
		t.Errorf("the forced per-role path made %d GetRole calls, want at least %d: the comparison is void", n, scaleRoles)
	}
	if want := decodeList(t, slow.stdout); !reflect.DeepEqual(want, listed) {
		t.Errorf("list -A by listing differs from the per-role path:\n%s", firstDiff(want.Items, listed.Items))
	}
	admitted := 0
	for _, it := range listed.Items {
		if strings.HasPrefix(it.Namespace, "scale-") && it.TrustAdmits == "yes" {
			admitted++
		}
	}
	if admitted != scaleRoles/2 {
		t.Errorf("%d scale ServiceAccounts admitted by their role's trust, want %d", admitted, scaleRoles/2)
	}

	doctor, doctorCalls := run(env(), "doctor", "-A", "-o", "json", "-v=6")
	t.Logf("doctor -A: %d AWS calls %v, %d Kubernetes requests", len(doctorCalls), byAction(doctorCalls), kubeRequests(doctor))
	if len(doctorCalls) > bound {
		t.Errorf("doctor -A made %d AWS calls, want at most %d: %v", len(doctorCalls), bound, byAction(doctorCalls))
	}
	if n := kubeRequests(doctor); n > pages+4 {
		t.Errorf("doctor -A made %d Kubernetes requests for %d pages", n, pages)
	}

	audit, auditCalls := run(env(), "audit", "-A", "-o", "json")
	t.Logf("audit -A: %d AWS calls %v", len(auditCalls), byAction(auditCalls))
	if len(auditCalls) > bound {
		t.Errorf("audit -A made %d AWS calls, want at most %d: %v", len(auditCalls), bound, byAction(auditCalls))
	}
	slowAudit, slowAuditCalls := run(env(perRole), "audit", "-A", "-o", "json")
	if n := byAction(slowAuditCalls)["iam:ListRolePolicies"]; n < scaleRoles {
		t.Errorf("the forced per-role audit read the policies of %d roles, want at least %d", n, scaleRoles)
	}
	var fast, want inspect.AuditReport
	for _, d := range []struct {
		out string
		rep *inspect.AuditReport
	}{{audit.stdout, &fast}, {slowAudit.stdout, &want}} {
		if err := json.Unmarshal([]byte(d.out), d.rep); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(want.Findings, fast.Findings) || !reflect.DeepEqual(want.Roles, fast.Roles) {
		t.Errorf("audit -A differs from the per-role path: %d/%d findings, %d/%d roles", len(fast.Findings), len(want.Findings), len(fast.Roles), len(want.Roles))
		for i := range min(len(fast.Findings), len(want.Findings)) {
			if !reflect.DeepEqual(fast.Findings[i], want.Findings[i]) {
				t.Logf("first differing finding:\nper-role %+v\nbulk     %+v", want.Findings[i], fast.Findings[i])
				break
			}
		}
		for i := range min(len(fast.Roles), len(want.Roles)) {
			if !reflect.DeepEqual(fast.Roles[i], want.Roles[i]) {
				t.Logf("first differing role:\nper-role %+v\nbulk     %+v", want.Roles[i], fast.Roles[i])
				break
			}
		}
	}
	admin := 0
	for _, f := range fast.Findings {
		if f.ID == "AdminPermissions" && strings.HasPrefix(f.Target, "role/e2e-scale-") {
			admin++
		}
	}
	if admin != 1 {
		t.Errorf("%d admin findings on the scale roles, want 1 (the role allowing \"*\")", admin)
	}
}

func kubeRequests(r result) int { return strings.Count(r.stderr, `"Response" verb=`) }

func decodeList(t *testing.T, out string) inspect.ListResult {
	t.Helper()
	var res inspect.ListResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("list output: %v", err)
	}
	return res
}

func firstDiff(want, got []inspect.ListItem) string {
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			return fmt.Sprintf("per-role %+v\nlisting  %+v", want[i], got[i])
		}
	}
	return fmt.Sprintf("%d items per role, %d by listing", len(want), len(got))
}

// createScaleFleet creates roles e2e-scale-role-NNNN, ServiceAccount sa-NNNN in namespace scale-(N%10) on
// role N, whose trust names it when N is even and sa-other otherwise; role 0007 has an inline policy allowing
// "*". The roles are deleted when the test ends, the ServiceAccounts too (namespaces cannot finish deleting in
// the sandbox: no controller manager).
func createScaleFleet(t *testing.T) {
	ctx := context.Background()
	kube := fastKube(t)
	ns := func(i int) string { return fmt.Sprintf("scale-%d", i%scaleNamespaces) }
	for n := range scaleNamespaces {
		createNamespace(t, ns(n))
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range scaleRoles {
		g.Go(func() error {
			sa := fmt.Sprintf("sa-%04d", i)
			if i%2 == 1 {
				sa = "sa-other"
			}
			doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{%q:"system:serviceaccount:%s:%s",%q:"sts.amazonaws.com"}}}]}`,
				provider().ARN, provider().HostPath+":sub", ns(i), sa, provider().HostPath+":aud")
			name := aws.String(fmt.Sprintf("e2e-scale-role-%04d", i))
			if _, err := iamClient.CreateRole(gctx, &iam.CreateRoleInput{RoleName: name, AssumeRolePolicyDocument: aws.String(doc)}); err != nil {
				return err
			}
			if i == 7 {
				_, err := iamClient.PutRolePolicy(gctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String("admin"),
					PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
				return err
			}
			return nil
		})
	}
	for i := range scaleRoles {
		g.Go(func() error {
			sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sa-%04d", i), Namespace: ns(i),
				Annotations: map[string]string{iamref.RoleARNAnnotation: fmt.Sprintf("arn:aws:iam::%s:role/e2e-scale-role-%04d", account, i)}}}
			_, err := kube.CoreV1().ServiceAccounts(sa.Namespace).Create(gctx, sa, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteScaleFleet(kube) })
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(16)
	for k := range scalePods {
		g.Go(func() error {
			i := k * (scaleRoles / scalePods)
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%04d", k), Namespace: ns(i)},
				Spec: corev1.PodSpec{ServiceAccountName: fmt.Sprintf("sa-%04d", i), Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}}
			_, err := kube.CoreV1().Pods(pod.Namespace).Create(gctx, pod, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// fastKube is a client for creating the fleet: the shared one keeps client-go's 5 requests a second.
func fastKube(t *testing.T) kubernetes.Interface {
	cfg, err := clientcmd.BuildConfigFromFlags("", sb.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	return kubernetes.NewForConfigOrDie(cfg)
}

// deleteScaleFleet removes the scale fleet so later tests see the sandbox as before.
func deleteScaleFleet(kube kubernetes.Interface) {
	ctx := context.Background()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for n := range scaleNamespaces {
		g.Go(func() error {
			ns := fmt.Sprintf("scale-%d", n)
			_ = kube.CoreV1().Pods(ns).DeleteCollection(gctx, metav1.DeleteOptions{GracePeriodSeconds: aws.Int64(0)}, metav1.ListOptions{})
			return kube.CoreV1().ServiceAccounts(ns).DeleteCollection(gctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		})
	}
	for i := range scaleRoles {
		g.Go(func() error {
			name := aws.String(fmt.Sprintf("e2e-scale-role-%04d", i))
			if i == 7 {
				_, _ = iamClient.DeleteRolePolicy(gctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String("admin")})
			}
			_, err := iamClient.DeleteRole(gctx, &iam.DeleteRoleInput{RoleName: name})
			return err
		})
	}
	_ = g.Wait() // best effort: the sandbox is discarded after the run anyway
}
