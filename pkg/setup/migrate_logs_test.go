package setup

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

// fakeLogs serves container logs from logs, keyed by container name (client-go's fake does not pass the pod's
// name to reactors: tests give containers names unique across their pods); a missing key is a Forbidden answer.
// It records every request's options.
func fakeLogs(kube *fake.Clientset, logs map[string]string) *[]corev1.PodLogOptions {
	var mu sync.Mutex
	reads := &[]corev1.PodLogOptions{}
	kube.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "log" {
			return false, nil, nil
		}
		opts := a.(k8stesting.GenericAction).GetValue().(*corev1.PodLogOptions)
		mu.Lock()
		*reads = append(*reads, *opts)
		mu.Unlock()
		text, ok := logs[opts.Container]
		if !ok {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods/log"}, "web-1", fmt.Errorf(`User "dev" cannot get resource "pods/log"`))
		}
		return true, &runtime.Unknown{Raw: []byte(text)}, nil
	})
	return reads
}

func running(name string, containers ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: "app:1"})
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: c, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	}
	return p
}

func pending(name string, containers ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"}, Status: corev1.PodStatus{Phase: corev1.PodPending}}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: "app:1"})
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: c, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}})
	}
	return p
}

const (
	oldGoUA   = `2024/05/01 10:00:00 DEBUG: Request s3/ListBuckets Details: User-Agent: aws-sdk-go/1.44.0 (go1.20; linux; amd64)`
	newGoUA   = `2024/05/01 10:00:00 DEBUG: Request s3/ListBuckets Details: User-Agent: aws-sdk-go/1.50.0 (go1.21; linux; amd64)`
	oldBoto   = `DEBUG botocore.endpoint Making request for OperationModel(name=GetObject) with params: {'headers': {'User-Agent': 'Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0'}}`
	fakeAgent = "ValueError: Unsupported host '169.254.170.23'.  Can only retrieve metadata from these hosts: 169.254.170.2, localhost, 127.0.0.1"
)

func TestLogChecks(t *testing.T) {
	withInit := running("init-1", "main")
	withInit.Spec.InitContainers = []corev1.Container{{Name: "fetch", Image: "amazon/aws-cli:2.17.0"}}
	withInit.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "fetch", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}}}
	skipping := running("skip-1", "app", "proxy")
	skipping.Annotations = map[string]string{iamref.SkipContainersAnnotation: "proxy"}
	halfStarted := running("half-1", "app", "sidecar")
	halfStarted.Status.ContainerStatuses[1].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
	succeeded := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "job-1", Namespace: "shop"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "job"}}},
		Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{{Name: "job", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}}}}}

	cases := []struct {
		name string
		pods []*corev1.Pod
		logs map[string]string // by container name
		// reasons and unchecked: substrings expected (none: nothing expected); reads: the containers whose log
		// was asked for, in order.
		reasons, unchecked []string
		reads              []string
	}{
		{name: "old Go SDK in the user agent blocks", pods: []*corev1.Pod{running("web-1", "app")},
			logs:    map[string]string{"app": "starting\n" + oldGoUA + "\nready\n"},
			reasons: []string{"PodIdentityOldSDK: container app of pod web-1 logs AWS SDK for Go v1 1.44.0 is older than the first release with EKS Pod Identity support (1.47.11): upgrade the SDK"},
			reads:   []string{"app"}},
		{name: "a recent SDK passes", pods: []*corev1.Pod{running("web-1", "app")},
			logs: map[string]string{"app": newGoUA + "\n"}, reads: []string{"app"}},
		{name: "boto3 user agent; the same line twice is one reason", pods: []*corev1.Pod{running("web-1", "app")},
			logs:    map[string]string{"app": oldBoto + "\n" + oldBoto + "\n"},
			reasons: []string{"logs boto3 1.28.0 is older"}, reads: []string{"app"}},
		{name: "an SDK refusing the agent's address (logclass)", pods: []*corev1.Pod{running("web-1", "app")},
			logs:    map[string]string{"app": fakeAgent + "\n"},
			reasons: []string{"logs that boto3 refuses the EKS Pod Identity Agent's address"}, reads: []string{"app"}},
		{name: "one pod per ServiceAccount: the running one, every container", pods: []*corev1.Pod{pending("web-0", "app0"), running("web-1", "app1", "side1"), running("web-2", "app2")},
			logs:    map[string]string{"app0": oldGoUA, "app1": newGoUA, "side1": oldGoUA, "app2": oldGoUA},
			reasons: []string{"container side1 of pod web-1"}, reads: []string{"app1", "side1"}},
		{name: "init containers are read too", pods: []*corev1.Pod{withInit},
			logs:    map[string]string{"fetch": "aws-cli/2.13.0 Python/3.11.4 Linux/5.10 exe/x86_64.amzn.2", "main": ""},
			reasons: []string{"container fetch of pod init-1 logs AWS CLI v2 2.13.0"}, reads: []string{"fetch", "main"}},
		{name: "a container the webhook skips is not read", pods: []*corev1.Pod{skipping},
			logs: map[string]string{"app": newGoUA, "proxy": oldGoUA}, reads: []string{"app"}},
		{name: "log read forbidden: could not check, no block", pods: []*corev1.Pod{running("web-1", "app")},
			unchecked: []string{`could not check the SDK versions in the log of container app of pod web-1: pods/log "web-1" is forbidden: User "dev" cannot get resource "pods/log"`},
			reads:     []string{"app"}},
		{name: "a container not started: could not check, not asked", pods: []*corev1.Pod{halfStarted},
			logs:      map[string]string{"app": oldGoUA, "sidecar": oldGoUA},
			reasons:   []string{"container app of pod half-1"},
			unchecked: []string{"could not check the SDK versions in the log of container sidecar of pod half-1: it has not started"},
			reads:     []string{"app"}},
		{name: "no container started: could not check, nothing asked", pods: []*corev1.Pod{pending("web-0", "app")},
			logs:      map[string]string{"app": oldGoUA},
			unchecked: []string{"could not check the SDK versions in logs: no container of pod web-0 has started"}},
		{name: "a finished pod's log is read when none runs", pods: []*corev1.Pod{pending("web-0", "app"), succeeded},
			logs: map[string]string{"app": newGoUA, "job": oldGoUA}, reasons: []string{"container job of pod job-1"}, reads: []string{"job"}},
		{name: "no pod: nothing asked"},
		{name: "beyond the byte limit nothing is read, even from a server that ignores it", pods: []*corev1.Pod{running("web-1", "app")},
			logs:  map[string]string{"app": strings.Repeat("x", int(PreflightLogLimitBytes)) + "\n" + oldGoUA + "\n"},
			reads: []string{"app"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kube := fake.NewClientset()
			reads := fakeLogs(kube, c.logs)
			p := &preflight{m: &Migrator{PodIdentity: &PodIdentity{Setup: &Setup{Kube: kube}}}}
			reasons, unchecked := p.logChecks(context.Background(), c.pods)
			checkContains(t, "reasons", reasons, c.reasons)
			checkContains(t, "unchecked", unchecked, c.unchecked)
			var got []string
			for _, r := range *reads {
				got = append(got, r.Container)
				if r.TailLines == nil || *r.TailLines != PreflightLogTailLines || r.LimitBytes == nil || *r.LimitBytes != PreflightLogLimitBytes || r.Follow || r.Previous {
					t.Errorf("unbounded log request %+v", r)
				}
			}
			if strings.Join(got, ",") != strings.Join(c.reads, ",") {
				t.Errorf("log requests %v, want %v", got, c.reads)
			}
		})
	}
}

// checkContains: each of want is in one of got, and got is empty when want is.
func checkContains(t *testing.T, what string, got, want []string) {
	t.Helper()
	all := strings.Join(got, "\n")
	if len(want) == 0 && len(got) > 0 {
		t.Errorf("unexpected %s:\n%s", what, all)
	}
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("%s lack %q:\n%s", what, w, all)
		}
	}
	if len(got) > len(want) && len(want) > 0 {
		t.Errorf("%d %s, want %d:\n%s", len(got), what, len(want), all)
	}
}

// TestLogChecksHostileLog: what a log shows is never echoed raw: no terminal escape, no secret.
func TestLogChecksHostileLog(t *testing.T) {
	secret := "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	log := "\x1b]0;pwned\x07\x1b[31maws_secret_access_key=" + secret + " " + fakeAgent + "\x1b[0m\n" +
		"User-Agent: aws-sdk-go/1.44.0\x1b[2J (go1.20; linux; amd64) Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/s3/aws4_request, Signature=" + strings.Repeat("ab", 32) + "\n"
	kube := fake.NewClientset()
	fakeLogs(kube, map[string]string{"app": log})
	p := &preflight{m: &Migrator{PodIdentity: &PodIdentity{Setup: &Setup{Kube: kube}}}}
	reasons, unchecked := p.logChecks(context.Background(), []*corev1.Pod{running("web-1", "app")})
	all := strings.Join(append(reasons, unchecked...), "\n")
	if len(reasons) != 2 {
		t.Errorf("want the old SDK version and the refused address, got:\n%s", all)
	}
	for _, bad := range []string{"\x1b", "\x07", secret, "AKIAIOSFODNN7EXAMPLE", strings.Repeat("ab", 32), "pwned"} {
		if strings.Contains(all, bad) {
			t.Errorf("reasons carry %q:\n%q", bad, all)
		}
	}
}

// TestPreflightReadsLogsOnlyWhenAsked: a re-run of a verified move reads no log.
func TestPreflightReadsLogsOnlyWhenAsked(t *testing.T) {
	pod := running("web-1", "app")
	pod.Spec.ServiceAccountName = "web"
	kube := fake.NewClientset(pod, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	kube.PrependReactor("get", "daemonsets", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, nil })
	reads := fakeLogs(kube, map[string]string{"app": oldGoUA})
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}}
	for _, withLogs := range []bool{false, true} {
		p := &preflight{m: &Migrator{PodIdentity: &PodIdentity{Setup: &Setup{Kube: kube}, Cluster: "prod"}}, pods: map[string][]corev1.Pod{}}
		*reads = nil
		reasons, _ := p.check(context.Background(), sa, "arn:aws:iam::123456789012:role/web", withLogs)
		blocked := strings.Contains(strings.Join(reasons, "\n"), "PodIdentityOldSDK")
		if blocked != withLogs || (len(*reads) == 1) != withLogs {
			t.Errorf("withLogs=%v: blocked=%v, %d log reads: %v", withLogs, blocked, len(*reads), reasons)
		}
	}
}

// TestLogChecksLongVersion: a log line with a version of thousands of components gives a short skip reason.
func TestLogChecksLongVersion(t *testing.T) {
	kube := fake.NewClientset()
	fakeLogs(kube, map[string]string{"app": "User-Agent: Boto3/1.2." + strings.Repeat("1.", 3000) + " md/Botocore\n"})
	p := &preflight{m: &Migrator{PodIdentity: &PodIdentity{Setup: &Setup{Kube: kube}}}}
	reasons, _ := p.logChecks(context.Background(), []*corev1.Pod{running("web-1", "app")})
	all := strings.Join(reasons, "\n")
	if !strings.Contains(all, "boto3 1.2.1 is older") || len(all) > 400 {
		t.Errorf("want one short reason naming boto3 1.2.1, got %d bytes:\n%.600s", len(all), all)
	}
}
