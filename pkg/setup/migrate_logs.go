package setup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
)

// Bounds of the preflight's log read: one request per container of one pod per ServiceAccount, each asking the
// kubelet for at most the last PreflightLogTailLines lines and PreflightLogLimitBytes bytes (and reading no more
// than that, whatever the server sends).
const (
	PreflightLogTailLines  int64 = 500
	PreflightLogLimitBytes int64 = 128 << 10
	// maxLogLineBytes bounds the part of one log line the version patterns look at.
	maxLogLineBytes = 8 << 10
)

// logPod picks the one pod of a ServiceAccount whose logs the preflight reads: the first running pod, else the
// first pod with a container that has run (its log is kept until the pod goes); nil when no container ran.
func logPod(pods []*corev1.Pod) *corev1.Pod {
	for _, p := range pods {
		if p.Status.Phase == corev1.PodRunning {
			return p
		}
	}
	for _, p := range pods {
		for _, s := range append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...) {
			if started(s) {
				return p
			}
		}
	}
	return nil
}

// started reports whether a container has run (running now, or terminated now or before).
func started(s corev1.ContainerStatus) bool {
	return s.State.Running != nil || s.State.Terminated != nil || s.LastTerminationState.Terminated != nil
}

// logChecks reads the recent log of every container of one pod of the ServiceAccount (init containers and
// sidecars included, containers the webhook skips excluded) and looks for AWS SDKs older than the first release
// with EKS Pod Identity support: versions in the user agents and version strings SDKs log
// (doctor.OldPodIdentitySDKInLog), and an SDK refusing the agent's address (logclass's PodIdentityOldSDK).
// It returns the blocking reasons and, for each log that could not be read, what could not be checked: a log
// read that fails (RBAC, a container not started) does not block the migration by itself.
func (p *preflight) logChecks(ctx context.Context, pods []*corev1.Pod) (reasons, unchecked []string) {
	pod := logPod(pods)
	if pod == nil {
		if len(pods) > 0 {
			unchecked = append(unchecked, fmt.Sprintf("could not check the SDK versions in logs: no container of pod %s has started", pods[0].Name))
		}
		return nil, unchecked
	}
	statuses := map[string]corev1.ContainerStatus{}
	for _, s := range append(slices.Clone(pod.Status.InitContainerStatuses), pod.Status.ContainerStatuses...) {
		statuses[s.Name] = s
	}
	skipped := strings.Split(pod.Annotations[iamref.SkipContainersAnnotation], ",")
	for _, c := range append(slices.Clone(pod.Spec.InitContainers), pod.Spec.Containers...) {
		if slices.Contains(skipped, c.Name) {
			continue // the webhook gives it no credentials: its SDK does not matter
		}
		if s, ok := statuses[c.Name]; ok && !started(s) {
			unchecked = append(unchecked, fmt.Sprintf("could not check the SDK versions in the log of container %s of pod %s: it has not started", c.Name, pod.Name))
			continue
		}
		found, err := p.containerLogSDKs(ctx, pod, c.Name)
		if err != nil {
			unchecked = append(unchecked, fmt.Sprintf("could not check the SDK versions in the log of container %s of pod %s: %v", c.Name, pod.Name, err))
			continue
		}
		for _, f := range found {
			reasons = append(reasons, fmt.Sprintf("PodIdentityOldSDK: container %s of pod %s logs %s: upgrade the SDK in the image first, or keep IRSA for this ServiceAccount", c.Name, pod.Name, f))
		}
	}
	return reasons, unchecked
}

// containerLogSDKs reads one container's recent log (bounded) and returns what it shows of SDKs too old for EKS
// Pod Identity, each once, in the order first seen. The log is hostile input: what is returned is built from our
// own words, the SDK's name and a version matched as digits and dots; logclass's findings are redacted and made
// terminal-safe (safetext).
func (p *preflight) containerLogSDKs(ctx context.Context, pod *corev1.Pod, container string) ([]string, error) {
	tail, limit := PreflightLogTailLines, PreflightLogLimitBytes
	stream, err := p.m.Kube.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: container, TailLines: &tail, LimitBytes: &limit}).Stream(ctx)
	if err != nil {
		return nil, errors.New(kubeReason(err))
	}
	defer stream.Close()
	data, err := io.ReadAll(io.LimitReader(stream, limit))
	if err != nil {
		return nil, fmt.Errorf("reading the log: %w", err)
	}
	return oldSDKsInLog(data), nil
}

// oldSDKsInLog finds, in a log, the SDK versions below Pod Identity's minimums and the SDKs that refuse the EKS
// Pod Identity Agent's address; each distinct finding once, in the order first seen.
func oldSDKsInLog(data []byte) []string {
	var out []string
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for line := range bytes.Lines(data) {
		if len(line) > maxLogLineBytes {
			line = line[:maxLogLineBytes]
		}
		if v, ok := doctor.OldPodIdentitySDKInLog(string(line)); ok {
			add(v)
		}
	}
	c := &logclass.Classifier{}
	_ = c.Scan(bytes.NewReader(data), func(f logclass.Finding) { // a bytes.Reader does not fail
		if f.ID != logclass.PodIdentityOldSDK {
			return
		}
		sdk := "an SDK"
		if f.SDK != "" {
			sdk = safetext.Data(f.SDK)
		}
		add(fmt.Sprintf("that %s refuses the EKS Pod Identity Agent's address (%s): it is older than the first release with EKS Pod Identity support", sdk, safetext.Data(f.Excerpt)))
	})
	return out
}

// kubeReason shortens a Kubernetes API error to its message (a Forbidden one names the missing permission).
func kubeReason(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Message != "" {
		return status.Status().Message
	}
	return err.Error()
}
