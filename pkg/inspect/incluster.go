package inspect

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
)

// TestJobLabel marks Jobs created by `kubectl irsa test --in-cluster`.
const TestJobLabel = "kubectl-irsa.io/test"

// BuildTestJob returns the Job `test --in-cluster` runs: the AWS CLI as the ServiceAccount, like the seed
// guide's test Job, never retried, cleaned up by the TTL controller if we cannot delete it.
func BuildTestJob(namespace, serviceAccount, image string, args []string, now time.Time) *batchv1.Job {
	if len(args) == 0 {
		args = []string{"sts", "get-caller-identity", "--output", "json"}
	}
	labels := map[string]string{TestJobLabel: serviceAccount, "app.kubernetes.io/managed-by": "kubectl-irsa"}
	backoff, ttl, deadline := int32(0), int32(300), int64(600)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("irsa-test-%s-%d", truncate(serviceAccount, 30), now.Unix()%100000),
			Namespace: namespace,
			Labels:    labels,
		},
		Spec: batchv1.JobSpec{
			BackoffLimit:            &backoff,
			TTLSecondsAfterFinished: &ttl,
			ActiveDeadlineSeconds:   &deadline,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: serviceAccount,
					RestartPolicy:      corev1.RestartPolicyNever,
					Containers: []corev1.Container{{
						Name:  "aws-cli",
						Image: image,
						Args:  args,
					}},
				},
			},
		},
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.TrimRight(s[:n], "-.")
}

var callerARN = regexp.MustCompile(`"Arn"\s*:\s*"(arn:aws[a-z-]*:sts::\d{12}:assumed-role/([^/"]+)/([^"]+))"`)

// JudgeJobLogs decides from the Job's logs whether the pod used the expected role: the assumed-role ARN of
// `sts get-caller-identity` naming it passes; another role (the node's) or any error fails, with the log
// classifier's findings.
func JudgeJobLogs(logs, expectedRole string) (verdict, assumed string, findings []doctor.Finding) {
	if m := callerARN.FindStringSubmatch(logs); m != nil {
		assumed = m[1]
		if m[2] == expectedRole {
			return VerdictPass, assumed, nil
		}
		f := doctor.Finding{ID: doctor.NodeRoleFallback, Severity: doctor.Error, Check: "logs", Target: "job",
			Summary:  fmt.Sprintf("the pod ran as %s, not as role %s", m[2], expectedRole),
			Evidence: []string{"sts get-caller-identity: " + assumed}}
		if !strings.HasPrefix(m[3], "i-") {
			f.ID = doctor.RoleMismatch
		}
		return VerdictFail, assumed, []doctor.Finding{f}
	}
	var found []logclass.Finding
	_ = (&logclass.Classifier{}).Scan(strings.NewReader(logs), func(f logclass.Finding) { found = append(found, f) })
	findings = doctor.LogFindings(found, "job")
	if len(findings) == 0 {
		findings = []doctor.Finding{{ID: "NoResult", Severity: doctor.Error, Check: "logs", Target: "job",
			Summary: "the Job's log shows no caller identity and no known error", Evidence: []string{lastLines(logs, 5)}}}
	}
	return VerdictFail, "", findings
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// InClusterTest runs a test Job, waits for it, reads its logs and judges them. The Job is deleted unless keep.
type InClusterTest struct {
	Kube kubernetes.Interface
	Job  *batchv1.Job
	Keep bool
	// Progress, when set, is told the pod's phase after each poll while the Job runs.
	Progress func(elapsed time.Duration, phase string)
	// Poll is the wait between two polls (0: a second).
	Poll time.Duration
}

func (t *InClusterTest) poll() time.Duration {
	if t.Poll > 0 {
		return t.Poll
	}
	return time.Second
}

// Run creates the Job and waits up to timeout for its pod to finish; it returns the pod's logs. The Job is
// deleted (unless Keep) however Run ends: finished, timed out, or ctx cancelled (an interrupted run).
func (t *InClusterTest) Run(ctx context.Context, timeout time.Duration) (logs string, err error) {
	jobs := t.Kube.BatchV1().Jobs(t.Job.Namespace)
	job, err := jobs.Create(ctx, t.Job, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("create test Job: %w", err)
	}
	if !t.Keep {
		defer func() {
			policy := metav1.DeletePropagationBackground
			_ = jobs.Delete(context.WithoutCancel(ctx), job.Name, metav1.DeleteOptions{PropagationPolicy: &policy})
		}()
	}
	start := time.Now()
	selector := "job-name=" + job.Name
	phase := "no pod yet"
	for {
		pods, err := cluster.ListPods(ctx, t.Kube, job.Namespace, selector)
		if err != nil {
			return "", err
		}
		if len(pods) > 0 {
			p := pods[0]
			phase = string(p.Status.Phase)
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				stream, err := t.Kube.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{}).Stream(ctx)
				if err != nil {
					return "", fmt.Errorf("read logs of %s: %w", p.Name, err)
				}
				defer stream.Close()
				b, err := io.ReadAll(io.LimitReader(stream, 1<<20))
				return string(b), err
			}
		}
		if time.Since(start) > timeout {
			return "", fmt.Errorf("test Job %s/%s did not finish within %s (pod: %s; check `kubectl describe job %s -n %s`): %w", job.Namespace, job.Name, timeout, phase, job.Name, job.Namespace, ErrJobTimeout)
		}
		if t.Progress != nil {
			t.Progress(time.Since(start), phase)
		}
		select {
		case <-ctx.Done():
			what := "deleted"
			if t.Keep {
				what = "kept"
			}
			return "", fmt.Errorf("stopped waiting for test Job %s/%s (pod: %s): %w; the Job is %s", job.Namespace, job.Name, phase, ctx.Err(), what)
		case <-time.After(t.poll()):
		}
	}
}
