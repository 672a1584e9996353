package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
)

// PodLogs classifies the current and previous logs (last tail lines) of every container of the pods.
// Logs that cannot be read (a pod not running) are skipped with a note.
func (in *Inspector) PodLogs(ctx context.Context, pods []corev1.Pod, tail int64, classifier *logclass.Classifier) []logclass.Finding {
	collector := &logclass.Collector{} // one across containers: bounded evidence, O(1) deduplication
	for _, p := range pods {
		for _, c := range p.Spec.Containers {
			for _, previous := range []bool{false, true} {
				opts := &corev1.PodLogOptions{Container: c.Name, Previous: previous}
				if tail > 0 {
					opts.TailLines = &tail
				}
				stream, err := in.Kube.CoreV1().Pods(p.Namespace).GetLogs(p.Name, opts).Stream(ctx)
				if err != nil {
					if !previous {
						in.note(fmt.Sprintf("logs of %s/%s container %s not available: %v", p.Namespace, p.Name, c.Name, shortKubeError(err)))
					}
					continue
				}
				err = classifier.Scan(stream, collector.Add)
				stream.Close()
				if err != nil {
					in.couldNotCheck(fmt.Sprintf("the logs of %s/%s container %s", p.Namespace, p.Name, c.Name), err)
				}
			}
		}
	}
	return collector.Findings()
}

func shortKubeError(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Message
	}
	return err.Error()
}

// ScanScope lists the ServiceAccounts and pods of a namespace ("" for all) with one list call each, and
// returns the ServiceAccounts doctor and list look at: those with a role annotation, or an annotation key
// that looks like a misspelt one.
func (in *Inspector) ScanScope(ctx context.Context, namespace string) ([]corev1.ServiceAccount, []corev1.Pod, error) {
	return in.scanScope(ctx, namespace, nil)
}

// scanScope is ScanScope that also keeps the ServiceAccounts named (NS/NAME) in also, such as those with an
// EKS Pod Identity association.
func (in *Inspector) scanScope(ctx context.Context, namespace string, also map[string]bool) ([]corev1.ServiceAccount, []corev1.Pod, error) {
	sas, err := cluster.ListServiceAccounts(ctx, in.Kube, namespace)
	if err != nil {
		return nil, nil, err
	}
	if len(sas) == 0 {
		if err := in.requireNamespace(ctx, namespace); err != nil {
			return nil, nil, err
		}
	}
	pods, err := cluster.ListPods(ctx, in.Kube, namespace, "")
	if err != nil {
		return nil, nil, err
	}
	var out []corev1.ServiceAccount
	for _, sa := range sas {
		if also[sa.Namespace+"/"+sa.Name] {
			out = append(out, sa)
			continue
		}
		for key := range sa.Annotations {
			if key == iamref.RoleARNAnnotation || strings.Contains(strings.ToLower(key), "role-arn") || strings.Contains(strings.ToLower(key), "rolearn") {
				out = append(out, sa)
				break
			}
		}
	}
	return out, pods, nil
}

// PodsOf returns the pods that run as the ServiceAccount.
func PodsOf(pods []corev1.Pod, namespace, name string) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range pods {
		if p.Namespace == namespace && cluster.PodServiceAccount(&p.Spec) == name {
			out = append(out, p)
		}
	}
	return out
}
