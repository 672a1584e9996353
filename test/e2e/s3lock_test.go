package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/rolelock"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// lockSandbox is a two-cluster sandbox whose moto enforces identity policies, for the S3 lock tests.
type lockSandbox struct {
	sb      *sandbox.Sandbox
	environ []string
	kubes   []kubernetes.Interface
	iam     *iam.Client
	s3      *s3.Client
}

func startLockSandbox(t *testing.T) *lockSandbox {
	t.Helper()
	ctx := context.Background()
	asb, err := sandbox.Start(ctx, sandbox.Options{BinDir: sandbox.DefaultBinDir(), Clusters: 2, MotoAuth: true})
	if err != nil {
		t.Fatalf("two-cluster sandbox: %v", err)
	}
	t.Cleanup(asb.Stop)
	ls := &lockSandbox{sb: asb, environ: append([]string{"PATH=" + pluginDir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, asb.Env()...)}
	for _, c := range asb.Clusters {
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(&clientcmd.ClientConfigLoadingRules{ExplicitPath: asb.Kubeconfig},
			&clientcmd.ConfigOverrides{CurrentContext: c.Context}).ClientConfig()
		if err != nil {
			t.Fatal(err)
		}
		ls.kubes = append(ls.kubes, kubernetes.NewForConfigOrDie(cfg))
	}
	var key, secret string
	for _, kv := range asb.Env() {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "AWS_ACCESS_KEY_ID":
			key = v
		case "AWS_SECRET_ACCESS_KEY":
			secret = v
		}
	}
	cfg := aws.Config{Region: sandbox.Region, BaseEndpoint: aws.String(asb.MotoEndpoint), Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")}
	ls.iam = iam.NewFromConfig(cfg)
	ls.s3 = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	return ls
}

// run runs `kubectl irsa ARGS` with the sandbox's environment plus overrides.
func (ls *lockSandbox) run(t *testing.T, overrides []string, args ...string) result {
	t.Helper()
	return kubectl(t, append(append([]string(nil), ls.environ...), overrides...), append([]string{"irsa"}, args...)...)
}

// runAll runs each argument list at once and returns the results in order.
func (ls *lockSandbox) runAll(t *testing.T, runs [][]string) []result {
	t.Helper()
	out := make([]result, len(runs))
	var wg sync.WaitGroup
	for i, args := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("kubectl", append([]string{"irsa"}, args...)...)
			cmd.Env = ls.environ
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			out[i] = result{stdout: stdout.String(), stderr: stderr.String()}
			if exit, ok := err.(*exec.ExitError); ok {
				out[i].code = exit.ExitCode()
			} else if err != nil {
				out[i] = result{stderr: err.Error(), code: -1}
			}
		}()
	}
	wg.Wait()
	return out
}

// serviceAccounts creates namespace ns and the ServiceAccounts names in cluster c.
func (ls *lockSandbox) serviceAccounts(t *testing.T, c int, ns string, names ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := ls.kubes[c].CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		if _, err := ls.kubes[c].CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names {
		if _, err := ls.kubes[c].CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func (ls *lockSandbox) trust(t *testing.T, role string) (*trust.Document, string) {
	t.Helper()
	out, err := ls.iam.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	raw := aws.ToString(out.Role.AssumeRolePolicyDocument)
	d, err := trust.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return d, raw
}

func (ls *lockSandbox) annotation(t *testing.T, c int, ns, sa string) string {
	t.Helper()
	got, err := ls.kubes[c].CoreV1().ServiceAccounts(ns).Get(context.Background(), sa, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got.Annotations[iamref.RoleARNAnnotation]
}

func count(calls []string, op string) int {
	n := 0
	for _, c := range calls {
		if c == op {
			n++
		}
	}
	return n
}

// TestS3Lock drives the S3 role lock through the real kubectl against two clusters sharing one role.
func TestS3Lock(t *testing.T) {
	ls := startLockSandbox(t)
	ctx := context.Background()
	lock := "s3://" + sandbox.LockBucket + "/e2e"
	role, ns := "s3lock-shared", "s3lock"
	roleARN := "arn:aws:iam::" + sandbox.Account + ":role/" + role
	lockKey := "e2e/" + sandbox.Account + "/" + role + ".json"
	// 32 subjects on two providers need a raised trust quota: the sandbox enforces IAM's 2,048.
	ls.sb.SetTrustSizeQuota(sandbox.Account, 16384)
	t.Cleanup(func() { ls.sb.SetTrustSizeQuota(sandbox.Account, 0) })
	for c := range ls.sb.Clusters {
		ls.serviceAccounts(t, c, ns, fmt.Sprintf("base%d", c))
		mustSucceed(t, ls.run(t, nil, "link", fmt.Sprintf("base%d", c), "-n", ns, "--role-name", role, "--context", ls.sb.Clusters[c].Context, "--lock", lock, "--trust-size-limit", "16384"))
	}

	t.Run("ConcurrentLinksFromTwoClusters", func(t *testing.T) {
		want := map[int][]string{0: {trust.Subject(ns, "base0")}, 1: {trust.Subject(ns, "base1")}}
		for round := range 3 {
			var runs [][]string
			for i := range 10 {
				c := i % 2
				sa := fmt.Sprintf("r%d-sa%d", round, i)
				ls.serviceAccounts(t, c, ns, sa)
				runs = append(runs, []string{"link", sa, "-n", ns, "--role-name", role, "--context", ls.sb.Clusters[c].Context, "--lock", lock, "--trust-size-limit", "16384"})
				want[c] = append(want[c], trust.Subject(ns, sa))
			}
			ls.sb.AWS.Reset()
			results := ls.runAll(t, runs)
			waited := 0
			for i, r := range results {
				if r.code != 0 || !strings.Contains(r.stdout, "linked ") || strings.Contains(r.stderr, "SDK ") {
					t.Errorf("round %d run %d: %s", round, i, r)
				}
				if strings.Contains(r.stderr, "waiting for lock s3://"+sandbox.LockBucket+"/"+lockKey+" of role "+roleARN+", held since ") {
					waited++
				}
			}
			d, _ := ls.trust(t, role)
			for c, subs := range want {
				got := d.Subjects(trust.NewProvider("aws", sandbox.Account, ls.sb.Clusters[c].Issuer))
				for _, sub := range subs {
					if !containsString(got, sub) {
						t.Errorf("round %d: subject %s of cluster %d lost (%d subjects)", round, sub, c+1, len(got))
					}
				}
			}
			// Serialised by the lock, each run writes the trust once: a run racing another would read back
			// the other's document and merge again (a second write).
			calls := ls.sb.AWS.Calls()
			if n := count(calls, "iam:UpdateAssumeRolePolicy"); n != 10 {
				t.Errorf("round %d: %d trust writes for 10 links (re-merges mean the runs were not serialised)", round, n)
			}
			if waited == 0 || count(calls, "s3:PutObject") < 10 || count(calls, "s3:DeleteObject") != 10 {
				t.Errorf("round %d: %d runs waited for the lock; S3 calls %d PutObject, %d DeleteObject", round, waited, count(calls, "s3:PutObject"), count(calls, "s3:DeleteObject"))
			}
		}
	})

	t.Run("LiveHolderWithClockBehindKept", func(t *testing.T) {
		// A run renewing its lock on a machine whose clock is ten minutes behind: the expiry it records is in
		// the past, but S3 changed the object just now, so it is held (on S3's clock), not taken over.
		behind, _ := json.Marshal(map[string]any{"id": "skewed-runner-1-77-live2", "host": "skewed-runner-1", "pid": 77,
			"command": "kubectl irsa link slow", "since": time.Now().Add(-10 * time.Minute).UTC(), "expiry": time.Now().Add(-10*time.Minute + 30*time.Second).UTC()})
		if _, err := ls.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(sandbox.LockBucket), Key: aws.String(lockKey), Body: bytes.NewReader(behind)}); err != nil {
			t.Fatal(err)
		}
		r := mustSucceed(t, ls.run(t, nil, "lock", "status", role, "--lock", lock, "-o", "json"))
		var st rolelock.LockStatus
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || !st.Held || st.Expired || st.Holder == nil || st.Holder.PID != 77 {
			t.Errorf("status of a live holder whose clock is behind (%v): %s", err, r)
		}
		if _, err := ls.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(sandbox.LockBucket), Key: aws.String(lockKey)}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("DeadHolderTakenOver", func(t *testing.T) {
		// A run that declared a TTL of 1 s and stopped renewing (S3 last changed its object 3.5 s ago); its own
		// clock was ahead (its expiry is an hour away) and does not matter.
		dead, _ := json.Marshal(map[string]any{"id": "ci-runner-7-4242-dead1", "host": "ci-runner-7", "pid": 4242, "cluster": ls.sb.Clusters[1].Context,
			"command": "kubectl irsa link old", "since": time.Now().UTC(), "expiry": time.Now().Add(time.Hour).UTC(), "ttlSeconds": 1})
		if _, err := ls.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(sandbox.LockBucket), Key: aws.String(lockKey), Body: bytes.NewReader(dead)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3500 * time.Millisecond)
		r := mustSucceed(t, ls.run(t, nil, "lock", "status", role, "--lock", lock))
		if !strings.Contains(r.stdout, "holder:   ci-runner-7-4242-dead1 (host ci-runner-7, pid 4242") || !strings.Contains(r.stdout, "ago: the next run takes it over") || !strings.Contains(r.stdout, "lock:     s3://"+sandbox.LockBucket+"/"+lockKey) {
			t.Errorf("status of a dead holder: %s", r)
		}
		r = mustSucceed(t, ls.run(t, nil, "lock", "status", role, "--lock", lock, "-o", "json"))
		var st rolelock.LockStatus
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Kind != "LockStatus" || !st.Held || !st.Expired || st.Holder == nil || st.Holder.PID != 4242 || st.Backend != "s3" {
			t.Errorf("status -o json of a dead holder (%v): %s", err, r)
		}
		ls.serviceAccounts(t, 0, ns, "after-dead")
		r = mustSucceed(t, ls.run(t, nil, "link", "after-dead", "-n", ns, "--role-name", role, "--lock", lock, "--trust-size-limit", "16384"))
		if !strings.Contains(r.stderr, "taking over lock s3://"+sandbox.LockBucket+"/"+lockKey+" of role "+roleARN+": its holder ci-runner-7-4242-dead1 (host ci-runner-7, pid 4242") {
			t.Errorf("no message naming the dead holder: %s", r)
		}
		if _, err := ls.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(sandbox.LockBucket), Key: aws.String(lockKey)}); err == nil {
			t.Error("the lock object is still there after the run")
		}
		r = mustSucceed(t, ls.run(t, nil, "lock", "status", roleARN, "--lock", lock))
		if !strings.Contains(r.stdout, "holder:   none (free)") {
			t.Errorf("status after the run: %s", r)
		}
	})

	t.Run("ConflictRetried", func(t *testing.T) {
		// moto never answers 409 ConditionalRequestConflict (real S3 does, to concurrent conditional writes):
		// the proxy answers it, in S3's wire format, until the fault is removed.
		ls.serviceAccounts(t, 1, ns, "after-conflict")
		ls.sb.AWS.Reset()
		remove := ls.sb.AWS.InjectFault(sandbox.Fault{Operation: "s3:PutObject", Code: "ConditionalRequestConflict", Status: 409})
		done := make(chan result, 1)
		go func() {
			done <- ls.run(t, nil, "link", "after-conflict", "-n", ns, "--role-name", role, "--context", ls.sb.Clusters[1].Context, "--lock", lock, "--trust-size-limit", "16384")
		}()
		deadline := time.Now().Add(time.Minute)
		for count(ls.sb.AWS.Calls(), "s3:PutObject") < 2 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		remove()
		r := <-done
		if r.code != 0 || !strings.Contains(r.stdout, "linked ") {
			t.Errorf("link after 409s: %s", r)
		}
		if n := count(ls.sb.AWS.Calls(), "s3:PutObject"); n < 3 {
			t.Errorf("%d PutObject calls: the 409 was not retried", n)
		}
	})

	t.Run("Break", func(t *testing.T) {
		live, _ := json.Marshal(map[string]any{"id": "laptop-1-99-live1", "host": "laptop-1", "pid": 99, "command": "kubectl irsa link stuck",
			"since": time.Now().UTC(), "expiry": time.Now().Add(time.Hour).UTC()})
		if _, err := ls.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(sandbox.LockBucket), Key: aws.String(lockKey), Body: bytes.NewReader(live)}); err != nil {
			t.Fatal(err)
		}
		r := mustSucceed(t, ls.run(t, nil, "lock", "break", role, "--lock", lock))
		if !strings.Contains(r.stdout, "broke lock s3://"+sandbox.LockBucket+"/"+lockKey+" of role "+roleARN+", held by laptop-1-99-live1 (host laptop-1, pid 99") {
			t.Errorf("break: %s", r)
		}
		if _, err := ls.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(sandbox.LockBucket), Key: aws.String(lockKey)}); err == nil {
			t.Error("the lock object is still there after break")
		}
		r = mustSucceed(t, ls.run(t, nil, "lock", "break", role, "--lock", lock))
		if !strings.Contains(r.stdout, "is not held: nothing to break") {
			t.Errorf("break of a free lock: %s", r)
		}
		// The Kubernetes backend: a lease held by a dead run, shown and broken.
		holder, secs, since := "old-host-1-abcde", int32(15), metav1.NewMicroTime(time.Now().Add(-time.Hour))
		lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: rolelock.LeaseName(roleARN), Namespace: rolelock.DefaultNamespace},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &since, RenewTime: &since}}
		leases := ls.kubes[0].CoordinationV1().Leases(rolelock.DefaultNamespace)
		_ = leases.Delete(ctx, lease.Name, metav1.DeleteOptions{})
		if _, err := leases.Create(ctx, lease, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		r = mustSucceed(t, ls.run(t, nil, "lock", "status", role))
		if !strings.Contains(r.stdout, "backend:  kubernetes") || !strings.Contains(r.stdout, "holder:   old-host-1-abcde") || !strings.Contains(r.stdout, "expired 59m") {
			t.Errorf("lease status: %s", r)
		}
		r = mustSucceed(t, ls.run(t, nil, "lock", "break", role))
		if !strings.Contains(r.stdout, "broke lock lease kube-system/"+lease.Name+" of role "+roleARN+", held by old-host-1-abcde") {
			t.Errorf("lease break: %s", r)
		}
		if _, err := leases.Get(ctx, lease.Name, metav1.GetOptions{}); err == nil {
			t.Error("the lease is still there after break")
		}
	})

	t.Run("Denied", func(t *testing.T) {
		ls.serviceAccounts(t, 0, ns, "denied")
		// This user may do anything but touch the objects under denied/ of the lock bucket.
		deny, err := ls.sb.UserEnv(ctx, "no-lock", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},`+
			`{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::`+sandbox.LockBucket+`/denied/*"}]}`)
		if err != nil {
			t.Fatal(err)
		}
		_, before := ls.trust(t, role)
		ls.sb.AWS.Reset()
		r := ls.run(t, append(deny, "KUBECTL_IRSA_LOCK=s3://"+sandbox.LockBucket+"/denied"), "link", "denied", "-n", ns, "--role-name", role, "--trust-size-limit", "16384")
		want := "cannot take lock s3://" + sandbox.LockBucket + "/denied/" + sandbox.Account + "/" + role + ".json that serialises writes to role " + roleARN +
			": S3 answered AccessDenied; allow s3:PutObject, s3:GetObject and s3:DeleteObject on arn:aws:s3:::" + sandbox.LockBucket + "/denied/* to these credentials"
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("denied lock: want exit 1 and %q: %s", want, r)
		}
		if _, after := ls.trust(t, role); after != before {
			t.Errorf("the trust changed though the lock was denied")
		}
		if got := ls.annotation(t, 0, ns, "denied"); got != "" {
			t.Errorf("the ServiceAccount was annotated (%s) though the lock was denied", got)
		}
		for _, op := range ls.sb.AWS.Writes() {
			if !strings.HasPrefix(op, "s3:") {
				t.Errorf("write %s though the lock was denied", op)
			}
		}
		// A bucket that does not exist: the same, with what to do.
		r = ls.run(t, nil, "link", "denied", "-n", ns, "--role-name", role, "--lock", "s3://no-such-bucket/x", "--trust-size-limit", "16384")
		if r.code != 1 || !strings.Contains(r.stderr, "bucket no-such-bucket does not exist; create it") || ls.annotation(t, 0, ns, "denied") != "" {
			t.Errorf("missing bucket: %s", r)
		}
	})
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
