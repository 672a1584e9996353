package e2e

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// linkIRSA creates a role per ServiceAccount and links each with IRSA.
func linkIRSA(t *testing.T, ns, rolePrefix string, sas ...string) {
	t.Helper()
	for _, sa := range sas {
		createServiceAccount(t, ns, sa, nil)
		createRole(t, rolePrefix+sa, `{"Version":"2012-10-17","Statement":[`+ec2Statement+`]}`)
		mustSucceed(t, irsaCmd(t, "link", sa, "-n", ns, "--role-name", rolePrefix+sa))
	}
}

// addNode registers a node served by the sandbox's kubelet, deleted at the test's end.
func addNode(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := sb.AddNode(ctx, kube, name, map[string]string{"kubernetes.io/os": "linux"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kube.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}) })
}

// runningPodOn creates a pod of the ServiceAccount bound to node ("" leaves it unscheduled) and marks its
// containers running, as the kubelet would.
func runningPodOn(t *testing.T, ns, name, sa, node string, containers ...string) {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: corev1.PodSpec{ServiceAccountName: sa, NodeName: node}}
	for _, c := range containers {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: c, Image: "registry.example/app:1"})
	}
	created, err := kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status.Phase = corev1.PodRunning
	for _, c := range containers {
		created.Status.ContainerStatuses = append(created.Status.ContainerStatuses, corev1.ContainerStatus{Name: c, Image: "registry.example/app:1", ImageID: "registry.example/app@sha256:" + strings.Repeat("0", 64),
			Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}})
	}
	if _, err := kube.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateChecksSDKsInLogs: migrate's preflight reads, through kube-apiserver and the sandbox's kubelet, the
// recent log (tailLines and limitBytes bounded) of each container of ONE running pod per ServiceAccount: an AWS
// SDK older than Pod Identity's minimum skips that ServiceAccount; a log kube-apiserver cannot get (the kubelet
// answers 404) is noted as could-not-check and the move goes on.
func TestMigrateChecksSDKsInLogs(t *testing.T) {
	ns := "pi-migrate-logs"
	createNamespace(t, ns)
	cleanupAssociations(t, ns)
	installAgent(t)
	linkIRSA(t, ns, "pi-migl-", "old", "fresh", "nolog")
	node := "sandbox-node-logs"
	addNode(t, node)
	sb.Kubelet.Reset()
	t.Cleanup(sb.Kubelet.Reset)

	// old: two running pods; the first (old-0) is the one read, its sidecar logs an aws-sdk-go too old.
	runningPodOn(t, ns, "old-0", "old", node, "app", "sidecar")
	runningPodOn(t, ns, "old-1", "old", node, "app")
	sb.Kubelet.SetLog(ns, "old-0", "app", "listening on :8080\n")
	sb.Kubelet.SetLog(ns, "old-0", "sidecar", "2024/05/01 10:00:00 DEBUG: Request sts/GetCallerIdentity Details:\n---[ REQUEST POST-SIGN ]-----------------------------\nPOST / HTTP/1.1\nHost: sts.us-east-1.amazonaws.com\nUser-Agent: aws-sdk-go/1.44.0 (go1.20; linux; amd64)\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("ab", 32)+"\n\x1b[31mdone\x1b[0m\n")
	sb.Kubelet.SetLog(ns, "old-1", "app", "User-Agent: aws-sdk-go/1.30.0 (go1.14; linux; amd64)\n")
	// fresh: an old user agent only before the last 500 lines, which the kubelet does not send.
	var b strings.Builder
	b.WriteString("User-Agent: aws-sdk-go/1.44.0 (go1.20; linux; amd64)\n")
	for i := range 600 {
		fmt.Fprintf(&b, "request %d User-Agent: aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux api/s3#1.58.3\n", i)
	}
	runningPodOn(t, ns, "fresh-1", "fresh", node, "app")
	sb.Kubelet.SetLog(ns, "fresh-1", "app", b.String())
	// nolog: the kubelet has no log for its container (a 404 kube-apiserver relays): could not check.
	runningPodOn(t, ns, "nolog-1", "nolog", node, "app")

	counter.Reset()
	list, r := migrateJSON(t, "-n", ns, "--all", "-v=6")
	if r.code != 1 {
		t.Errorf("want exit 1 (old skipped): %s", r)
	}
	logRequests := 0
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, `"Response" verb="GET"`) && strings.Contains(l, "/log?") {
			logRequests++
		}
	}
	kubeRequests := strings.Count(r.stderr, `"Response" verb=`)
	calls := counter.Calls()
	t.Logf("migrate --all of 3 ServiceAccounts (1 skipped): %d Kubernetes requests (%d log reads), %d AWS calls %v", kubeRequests, logRequests, len(calls), calls)

	old := outcome(list, "old")
	reasons := strings.Join(old.Reasons, "\n")
	if old.Outcome != api.MigrationSkipped || !strings.Contains(reasons, "PodIdentityOldSDK: container sidecar of pod old-0 logs AWS SDK for Go v1 1.44.0 is older than the first release with EKS Pod Identity support (1.47.11)") || association(t, ns, "old") != nil {
		t.Errorf("old: %+v", old)
	}
	if strings.Contains(reasons, "old-1") || strings.Contains(r.stdout, "AKIAIOSFODNN7EXAMPLE") || strings.Contains(r.stdout, "\x1b") || strings.Contains(r.stdout, "\\u001b") {
		t.Errorf("reasons name the second pod or echo the log: %s", reasons)
	}
	if f := outcome(list, "fresh"); f.Outcome != api.MigrationMigrated || len(f.CouldNotCheck) != 0 {
		t.Errorf("fresh: %+v", f)
	}
	n := outcome(list, "nolog")
	if n.Outcome != api.MigrationMigrated || len(n.CouldNotCheck) != 1 || !strings.Contains(n.CouldNotCheck[0], "could not check the SDK versions in the log of container app of pod nolog-1: ") {
		t.Errorf("nolog: %+v", n)
	}

	// The kubelet saw one request per container of one pod per ServiceAccount, each bounded.
	var got []string
	for _, q := range sb.Kubelet.Requests() {
		got = append(got, q.Pod+"/"+q.Container)
		if q.Query.Get("tailLines") != strconv.FormatInt(setup.PreflightLogTailLines, 10) || q.Query.Get("limitBytes") != strconv.FormatInt(setup.PreflightLogLimitBytes, 10) || q.Query.Get("follow") == "true" {
			t.Errorf("unbounded log request: %v", q.Query)
		}
	}
	slices.Sort(got)
	if want := []string{"fresh-1/app", "nolog-1/app", "old-0/app", "old-0/sidecar"}; !slices.Equal(got, want) {
		t.Errorf("kubelet log requests %v, want %v", got, want)
	}
	if logRequests != 4 {
		t.Errorf("%d log requests to kube-apiserver, want 4 (one per container of one pod per ServiceAccount)", logRequests)
	}

	// Human output: the reason on stdout, what could not be checked on stderr; re-runs of migrated ones read no log.
	before := len(sb.Kubelet.Requests())
	r = irsaCmd(t, "migrate", "-n", ns, "--all")
	if !strings.Contains(r.stdout, "skipped "+ns+"/old: PodIdentityOldSDK: container sidecar of pod old-0") || !strings.Contains(r.stdout, "unchanged "+ns+"/nolog") || r.code != 1 {
		t.Errorf("re-run: %s", r)
	}
	if reqs := sb.Kubelet.Requests()[before:]; len(reqs) != 2 {
		t.Errorf("re-run read %d logs, want 2 (old-0 only: the migrated ones are not read again): %+v", len(reqs), reqs)
	}
}

// TestMigrateChecksNodeRolesInAccessEntries: the node role check reads EKS access entries (paged: one entry a
// page here) by the cluster's authentication mode: an EC2_LINUX node role without eks-auth:AssumeRoleForPodIdentity
// skips the move in API and API_AND_CONFIG_MAP mode (with aws-auth's node role too in the latter), is not read
// in CONFIG_MAP mode, and access entries that cannot be listed (AccessDeniedException) are could-not-check.
func TestMigrateChecksNodeRolesInAccessEntries(t *testing.T) {
	ctx := context.Background()
	ns := "pi-migrate-nodes"
	createNamespace(t, ns)
	cleanupAssociations(t, ns)
	installAgent(t)
	linkIRSA(t, ns, "pi-mign-", "api")
	nodeARN := createRole(t, "pi-mign-node", `{"Version":"2012-10-17","Statement":[`+ec2Statement+`]}`)
	cmNodeARN := createRole(t, "pi-mign-cmnode", `{"Version":"2012-10-17","Statement":[`+ec2Statement+`]}`)
	adminARN := createRole(t, "pi-mign-admin", `{"Version":"2012-10-17","Statement":[`+ec2Statement+`]}`)
	for _, remove := range []func(){
		sb.EKS.AddAccessEntry(sandbox.ClusterName, nodeARN, "EC2_LINUX"),
		sb.EKS.AddAccessEntry(sandbox.ClusterName, adminARN, "STANDARD"),
		sb.EKS.AddAccessEntry(sandbox.ClusterName, "arn:aws:iam::"+sandbox.Account+":user/jane", "STANDARD"),
	} {
		t.Cleanup(remove)
	}
	t.Cleanup(func() { sb.EKS.SetAuthenticationMode(sandbox.ClusterName, "") })
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "aws-auth", Namespace: "kube-system"}, Data: map[string]string{
		"mapRoles": "- rolearn: " + cmNodeARN + "\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n"}}
	if _, err := kube.CoreV1().ConfigMaps("kube-system").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kube.CoreV1().ConfigMaps("kube-system").Delete(ctx, "aws-auth", metav1.DeleteOptions{}) })
	sb.AWS.SetOneItemPages(true)
	t.Cleanup(func() { sb.AWS.SetOneItemPages(false) })

	dryRun := func(mode string) (api.Migration, []string) {
		t.Helper()
		sb.EKS.SetAuthenticationMode(sandbox.ClusterName, mode)
		counter.Reset()
		list, r := migrateJSON(t, "api", "-n", ns, "--dry-run")
		if len(list.Items) != 1 {
			t.Fatalf("%s: %s", mode, r)
		}
		return list.Items[0], counter.Calls()
	}
	blocked := func(m api.Migration, role, source string) bool {
		return strings.Contains(strings.Join(m.Reasons, "\n"), "PodIdentityNodeRole: node role "+role+" ("+source+") may not call eks-auth:AssumeRoleForPodIdentity")
	}

	m, calls := dryRun("API")
	t.Logf("API mode: %d AWS calls %v", len(calls), calls)
	if m.Outcome != api.MigrationSkipped || !blocked(m, "pi-mign-node", "access entry") || blocked(m, "pi-mign-cmnode", "aws-auth") || blocked(m, "pi-mign-admin", "access entry") {
		t.Errorf("API mode: %+v", m)
	}
	// One entry a page: 3 pages; the user is never described.
	if n := countOf(calls, "eks:ListAccessEntries"); n != 3 {
		t.Errorf("%d ListAccessEntries pages, want 3: %v", n, calls)
	}
	if n := countOf(calls, "eks:DescribeAccessEntry"); n != 2 {
		t.Errorf("%d DescribeAccessEntry, want 2 (the roles only): %v", n, calls)
	}

	m, _ = dryRun("API_AND_CONFIG_MAP")
	if m.Outcome != api.MigrationSkipped || !blocked(m, "pi-mign-node", "access entry") || !blocked(m, "pi-mign-cmnode", "aws-auth") {
		t.Errorf("API_AND_CONFIG_MAP mode: %+v", m)
	}

	m, calls = dryRun("CONFIG_MAP")
	if m.Outcome != api.MigrationSkipped || blocked(m, "pi-mign-node", "access entry") || !blocked(m, "pi-mign-cmnode", "aws-auth") || countOf(calls, "eks:ListAccessEntries") != 0 {
		t.Errorf("CONFIG_MAP mode: %+v %v", m, calls)
	}

	// Access entries that cannot be listed: noted, and the move goes on (aws-auth's node role now may call EKS Auth).
	if _, err := iamClient.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("pi-mign-cmnode"), PolicyName: aws.String("agent"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks-auth:AssumeRoleForPodIdentity","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	remove := sb.AWS.InjectFault(sandbox.Fault{Operation: "eks:ListAccessEntries"})
	m, _ = dryRun("API_AND_CONFIG_MAP")
	remove()
	if m.Outcome != api.MigrationPlanned || len(m.CouldNotCheck) != 1 || !strings.Contains(m.CouldNotCheck[0], "could not check the node roles in EKS access entries (eks:ListAccessEntries irsa-sandbox): AccessDeniedException") {
		t.Errorf("ListAccessEntries denied: %+v", m)
	}

	// The node role fixed: the move goes through, the human output notes nothing.
	if _, err := iamClient.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("pi-mign-node"), PolicyName: aws.String("agent"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks-auth:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	sb.AWS.SetOneItemPages(false)
	counter.Reset()
	r := mustSucceed(t, irsaCmd(t, "migrate", "api", "-n", ns, "-v=6"))
	calls = counter.Calls()
	t.Logf("migrate with node roles in aws-auth and access entries: %d Kubernetes requests, %d AWS calls %v", strings.Count(r.stderr, `"Response" verb=`), len(calls), calls)
	if !strings.Contains(r.stdout, "migrated "+ns+"/api") || strings.Contains(r.stderr, "note:") {
		t.Errorf("migrate: %s", r)
	}
}

func countOf(calls []string, op string) int {
	n := 0
	for _, c := range calls {
		if c == op {
			n++
		}
	}
	return n
}

// TestMigrateLogsForbiddenByRBAC: a user whose RBAC allows what migrate reads but not pods/log gets the move
// planned, with the Forbidden read noted (stderr), not a skip.
func TestMigrateLogsForbiddenByRBAC(t *testing.T) {
	ctx := context.Background()
	ns := "pi-migrate-rbac"
	createNamespace(t, ns)
	installAgent(t)
	linkIRSA(t, ns, "pi-migr-", "app")
	node := "sandbox-node-rbac"
	addNode(t, node)
	runningPodOn(t, ns, "app-1", "app", node, "app")
	sb.Kubelet.SetLog(ns, "app-1", "app", "User-Agent: aws-sdk-go/1.44.0 (go1.20; linux; amd64)\n")
	t.Cleanup(sb.Kubelet.Reset)

	name := "irsa-migrate-no-logs"
	all := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	rules := []rbacv1.PolicyRule{
		// Every core resource migrate touches, and no pods/log ("*" would grant the subresource too).
		{APIGroups: []string{""}, Resources: []string{"namespaces", "serviceaccounts", "serviceaccounts/token", "pods", "nodes", "configmaps", "events"}, Verbs: all},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets", "daemonsets", "replicasets"}, Verbs: all},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: all},
		{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"selfsubjectaccessreviews"}, Verbs: []string{"create"}},
		{NonResourceURLs: []string{"/.well-known/openid-configuration", "/openid/v1/jwks"}, Verbs: []string{"get"}},
	}
	if _, err := kube.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kube.RbacV1().ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{}) })
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: "irsa-viewer"}}}
	if _, err := kube.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kube.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{}) })

	r := kubectl(t, env("KUBECONFIG="+sb.ViewerKubeconfig), "irsa", "migrate", "app", "-n", ns, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "planned "+ns+"/app") {
		t.Errorf("want the move planned: %s", r)
	}
	want := `note: ` + ns + `/app: could not check the SDK versions in the log of container app of pod app-1: pods "app-1" is forbidden: User "irsa-viewer" cannot get resource "pods/log"`
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	// The same as admin: the old SDK in the log skips it.
	if r := irsaCmd(t, "migrate", "app", "-n", ns, "--dry-run"); r.code != 1 || !strings.Contains(r.stdout, "PodIdentityOldSDK: container app of pod app-1") {
		t.Errorf("admin: %s", r)
	}
}
