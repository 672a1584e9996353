// Command sandbox measures kubectl irsa against the local sandbox and prints the figures the README keeps:
// AWS calls of a fresh and a repeated link, and, at fleet scale (300 annotated ServiceAccounts in 10
// namespaces sharing 5 roles, 1,000 pods), the Kubernetes requests (as counted by -v=6), AWS calls and wall
// time of `doctor -A`, `list -A` and `audit -A`; and the same three over a second fleet (5,000 annotated
// ServiceAccounts in 50 namespaces on 1,000 distinct roles, 10,000 pods) so the growth is visible, plus
// `list -A` forced to read role by role (the strategy the listing replaces above 20 roles).
//
//	go run ./bench/sandbox -plugin bin/kubectl-irsa
package main

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

const (
	namespaces      = 10
	serviceAccounts = 300
	roles           = 5
	pods            = 1000
)

func main() {
	plugin := flag.String("plugin", "bin/kubectl-irsa", "kubectl-irsa binary to measure")
	binDir := flag.String("bin-dir", sandbox.DefaultBinDir(), "directory with etcd and kube-apiserver")
	flag.Parse()
	if err := run(*plugin, *binDir); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

type measure struct {
	name      string
	kube, aws int
	writes    int
	elapsed   time.Duration
	exit      int
	awsCalls  []string
	wantLimit string
}

func run(plugin, binDir string) error {
	plugin, err := filepath.Abs(plugin)
	if err != nil {
		return err
	}
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{BinDir: binDir})
	if err != nil {
		return err
	}
	defer sb.Stop()
	counter, err := sandbox.NewCallCounter(sb.AWSEndpoint)
	if err != nil {
		return err
	}
	defer counter.Close()
	env := append(os.Environ(), sb.Env()...)
	env = append(env, "AWS_ENDPOINT_URL="+counter.URL)

	cfg, err := clientcmd.BuildConfigFromFlags("", sb.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 500, 1000
	kube := kubernetes.NewForConfigOrDie(cfg)
	iamClient := iam.NewFromConfig(aws.Config{Region: sandbox.Region, BaseEndpoint: aws.String(sb.AWSEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, "")})

	exec1 := func(name, limit string, args ...string) measure {
		counter.Reset()
		var extra []string
		for len(args) > 0 && strings.Contains(args[0], "=") {
			extra, args = append(extra, args[0]), args[1:]
		}
		cmd := exec.Command(plugin, append(args, "-v=6")...)
		cmd.Env = append(env, extra...)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, &stderr
		start := time.Now()
		err := cmd.Run()
		m := measure{name: name, elapsed: time.Since(start), wantLimit: limit, awsCalls: counter.Calls(), writes: len(counter.Writes())}
		m.aws = len(m.awsCalls)
		m.kube = strings.Count(stderr.String(), `"Response" verb=`)
		if exit, ok := err.(*exec.ExitError); ok {
			m.exit = exit.ExitCode()
		}
		return m
	}

	var results []measure
	mustNS(ctx, kube, "irsa-sample-ns")
	mustSA(ctx, kube, "irsa-sample-ns", "irsa-test", nil)
	results = append(results,
		exec1("link (fresh, --allow)", "<= 8 AWS calls", "link", "irsa-test", "-n", "irsa-sample-ns", "--role-name", "irsa-role", "--allow", "eks:ListClusters"),
		exec1("link (repeated)", "0 writes, <= 5 AWS reads", "link", "irsa-test", "-n", "irsa-sample-ns", "--role-name", "irsa-role", "--allow", "eks:ListClusters"),
	)

	fmt.Fprintf(os.Stderr, "creating %d ServiceAccounts in %d namespaces on %d roles, and %d pods ...\n", serviceAccounts, namespaces, roles, pods)
	provider := trust.NewProvider("aws", sandbox.Account, sb.Issuer)
	for r := 0; r < roles; r++ {
		doc := trust.New()
		for n := r; n < namespaces; n += roles {
			doc.Statements = append(doc.Statements, []byte(fmt.Sprintf(`{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{%q:"system:serviceaccount:fleet-%d:*"},"StringEquals":{%q:"sts.amazonaws.com"}}}`,
				provider.ARN, provider.HostPath+":sub", n, provider.HostPath+":aud")))
		}
		if _, err := iamClient.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprintf("fleet-role-%d", r)), AssumeRolePolicyDocument: aws.String(doc.String())}); err != nil {
			return err
		}
	}
	for n := 0; n < namespaces; n++ {
		mustNS(ctx, kube, fmt.Sprintf("fleet-%d", n))
	}
	for i := 0; i < serviceAccounts; i++ {
		n := i % namespaces
		role := fmt.Sprintf("arn:aws:iam::%s:role/fleet-role-%d", sandbox.Account, n%roles)
		mustSA(ctx, kube, fmt.Sprintf("fleet-%d", n), fmt.Sprintf("sa-%03d", i), map[string]string{"eks.amazonaws.com/role-arn": role})
	}
	for i := 0; i < pods; i++ {
		sa := i % serviceAccounts
		n := sa % namespaces
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%04d", i), Namespace: fmt.Sprintf("fleet-%d", n)},
			Spec: corev1.PodSpec{ServiceAccountName: fmt.Sprintf("sa-%03d", sa), Containers: []corev1.Container{{Name: "app", Image: "app:1",
				Env: []corev1.EnvVar{{Name: "AWS_ROLE_ARN", Value: fmt.Sprintf("arn:aws:iam::%s:role/fleet-role-%d", sandbox.Account, n%roles)}, {Name: "AWS_WEB_IDENTITY_TOKEN_FILE", Value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}}}}}}
		if _, err := kube.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	results = append(results, exec1("doctor -A (300 SAs, 1000 pods, 5 roles)", "a handful of Kubernetes lists; one read set per role", "doctor", "-A"))
	if out, _ := exec.Command(plugin, "list", "--help").CombinedOutput(); bytes.Contains(out, []byte("list")) && !bytes.Contains(out, []byte("unknown command")) {
		results = append(results, exec1("list -A (300 SAs, 1000 pods, 5 roles)", "<= 10 Kubernetes requests, <= 10 AWS calls", "list", "-A"))
	}
	results = append(results, exec1("audit -A (300 SAs, 5 roles)", "one read set per role", "audit", "-A"))

	big := Fleet{Prefix: "scale", Namespaces: 50, ServiceAccounts: 5000, Roles: 1000, Pods: 10000, Workers: 16}
	fmt.Fprintf(os.Stderr, "creating %d ServiceAccounts in %d namespaces on %d roles, and %d pods ...\n", big.ServiceAccounts, big.Namespaces, big.Roles, big.Pods)
	start := time.Now()
	if err := big.Create(ctx, kube, iamClient, provider, sandbox.Account); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "created in %s\n", time.Since(start).Round(time.Second))
	const fleetLimit = "<= 12 AWS calls; Kubernetes requests per 500-item page"
	results = append(results, kubectlBaseline(env, sb.Kubeconfig))
	results = append(results,
		exec1("doctor -A (5,000 SAs, 10,000 pods, 1,000 roles)", fleetLimit, "doctor", "-A"),
		exec1("list -A (5,000 SAs, 10,000 pods, 1,000 roles)", fleetLimit, "list", "-A"),
		exec1("audit -A (5,000 SAs, 1,000 roles)", fleetLimit, "audit", "-A"),
		exec1("list -A, same fleet, forced role by role", "(the path the listing replaces)", "KUBECTL_IRSA_ROLE_LIST_THRESHOLD=100000", "list", "-A"),
	)

	// Pod Identity last: its associations and agent would add reads to the fleet runs above.
	if err := podIdentityRuns(ctx, kube, sb.AWSEndpoint, exec1, &results); err != nil {
		return err
	}

	fmt.Printf("\n| run | Kubernetes requests | AWS calls | AWS calls by action | AWS writes | wall time | exit | target |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, m := range results {
		fmt.Printf("| %s | %d | %d | %s | %d | %s | %d | %s |\n", m.name, m.kube, m.aws, summarize(m.awsCalls), m.writes, m.elapsed.Round(time.Millisecond), m.exit, m.wantLimit)
	}
	return nil
}

// summarize is the calls by action, most frequent first: "iam:GetRole 5, eks:ListPodIdentityAssociations 1".
func summarize(calls []string) string {
	n := map[string]int{}
	for _, c := range calls {
		n[c]++
	}
	actions := slices.Collect(maps.Keys(n))
	slices.SortFunc(actions, func(a, b string) int { return cmp.Or(n[b]-n[a], strings.Compare(a, b)) })
	var parts []string
	for _, a := range actions {
		parts = append(parts, fmt.Sprintf("%s %d", a, n[a]))
	}
	return strings.Join(parts, ", ")
}

func mustNS(ctx context.Context, kube kubernetes.Interface, name string) {
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		panic(err)
	}
}

func mustSA(ctx context.Context, kube kubernetes.Interface, ns, name string, ann map[string]string) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: ann}}
	if _, err := kube.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		panic(err)
	}
}

// kubectlBaseline times `kubectl get serviceaccounts,pods -A` (pages of 500, like the plugin's lists): the
// Kubernetes share of a fleet run's wall time on this machine.
func kubectlBaseline(env []string, kubeconfig string) measure {
	cmd := exec.Command("kubectl", "--kubeconfig", kubeconfig, "get", "serviceaccounts,pods", "-A", "--chunk-size=500", "-o", "name", "-v=6")
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, &stderr
	start := time.Now()
	err := cmd.Run()
	m := measure{name: "kubectl get serviceaccounts,pods -A (baseline, same fleet)", elapsed: time.Since(start), wantLimit: "(Kubernetes alone)"}
	m.kube = strings.Count(stderr.String(), "limit=500") // one log line per page request
	if exit, ok := err.(*exec.ExitError); ok {
		m.exit = exit.ExitCode()
	}
	return m
}
