package inspect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
)

// ErrNotFound: what doctor or test was asked about does not exist (its text is the advice).
var ErrNotFound = errors.New("check the name and the namespace")

// ErrNamespaceNotFound: the namespace asked about does not exist.
var ErrNamespaceNotFound = errors.New("namespace not found")

type namespaceNotFound struct{ namespace string }

func (e namespaceNotFound) Error() string {
	return fmt.Sprintf("namespace %q not found (kubectl get namespaces lists them)", e.namespace)
}

func (e namespaceNotFound) Is(target error) bool { return target == ErrNamespaceNotFound }

// requireNamespace returns ErrNamespaceNotFound when the namespace does not exist. It is asked only when a
// list came back empty or a read said not found, so a namespace that exists costs no request; a namespace that
// cannot be read (no get on namespaces) is not judged missing.
func (in *Inspector) requireNamespace(ctx context.Context, namespace string) error {
	if namespace == "" {
		return nil
	}
	if _, err := in.Kube.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		return namespaceNotFound{namespace}
	}
	return nil
}

// ErrJobTimeout: the in-cluster test Job did not finish in time (its text is the advice).
var ErrJobTimeout = errors.New("is there a node to run it?")

// Target is what doctor is asked about: KIND/NAME (serviceaccount, pod, deployment, statefulset, daemonset,
// job, cronjob) in a namespace.
type Target struct {
	Kind, Namespace, Name string
}

// ParseTarget reads SA, pod/NAME, deployment/NAME ... (a bare name is a ServiceAccount).
func ParseTarget(s, namespace string) (Target, error) {
	kind, name, found := strings.Cut(s, "/")
	if !found {
		kind, name = "serviceaccount", s
	}
	switch strings.ToLower(kind) {
	case "sa", "serviceaccount", "serviceaccounts":
		kind = "serviceaccount"
	case "po", "pod", "pods":
		kind = "pod"
	case "deploy", "deployment", "deployments":
		kind = "deployment"
	case "sts", "statefulset", "statefulsets":
		kind = "statefulset"
	case "ds", "daemonset", "daemonsets":
		kind = "daemonset"
	case "job", "jobs":
		kind = "job"
	case "cj", "cronjob", "cronjobs":
		kind = "cronjob"
	default:
		return Target{}, fmt.Errorf("cannot diagnose %q: give a ServiceAccount name or pod/, deployment/, statefulset/, daemonset/, job/ or cronjob/NAME", s)
	}
	if name == "" {
		return Target{}, fmt.Errorf("%q has no name", s)
	}
	return Target{Kind: kind, Namespace: namespace, Name: name}, nil
}

// ResolveTarget returns the ServiceAccount a target runs as and the target's pods.
func (in *Inspector) ResolveTarget(ctx context.Context, t Target) (string, []corev1.Pod, error) {
	switch t.Kind {
	case "serviceaccount":
		pods, err := cluster.ListPods(ctx, in.Kube, t.Namespace, "")
		if err != nil {
			return "", nil, err
		}
		return t.Name, PodsOf(pods, t.Namespace, t.Name), nil
	case "pod":
		p, err := in.Kube.CoreV1().Pods(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
		if err != nil {
			return "", nil, in.notFoundHint(ctx, err, t)
		}
		return cluster.PodServiceAccount(&p.Spec), []corev1.Pod{*p}, nil
	}
	template, selector, err := in.podTemplate(ctx, t)
	if err != nil {
		return "", nil, in.notFoundHint(ctx, err, t)
	}
	sa := cluster.PodServiceAccount(&template.Spec)
	labels := ""
	if selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(selector)
		if err != nil {
			return "", nil, fmt.Errorf("%s/%s has an invalid selector: %w", t.Kind, t.Name, err)
		}
		labels = sel.String()
	}
	items, err := cluster.ListPods(ctx, in.Kube, t.Namespace, labels)
	if err != nil {
		return "", nil, fmt.Errorf("pods of %s/%s: %w", t.Kind, t.Name, err)
	}
	if t.Kind == "cronjob" {
		items = slices.DeleteFunc(items, func(p corev1.Pod) bool {
			return !strings.HasPrefix(p.Labels["job-name"], t.Name+"-") || cluster.PodServiceAccount(&p.Spec) != sa
		})
	}
	return sa, items, nil
}

// podTemplate reads a workload target and returns its pod template and selector (nil for a CronJob, whose
// pods are found by their Job's name).
func (in *Inspector) podTemplate(ctx context.Context, t Target) (*corev1.PodTemplateSpec, *metav1.LabelSelector, error) {
	apps, batch, get := in.Kube.AppsV1(), in.Kube.BatchV1(), metav1.GetOptions{}
	var obj any
	var err error
	switch t.Kind {
	case "deployment":
		obj, err = apps.Deployments(t.Namespace).Get(ctx, t.Name, get)
	case "statefulset":
		obj, err = apps.StatefulSets(t.Namespace).Get(ctx, t.Name, get)
	case "daemonset":
		obj, err = apps.DaemonSets(t.Namespace).Get(ctx, t.Name, get)
	case "job":
		obj, err = batch.Jobs(t.Namespace).Get(ctx, t.Name, get)
	case "cronjob":
		obj, err = batch.CronJobs(t.Namespace).Get(ctx, t.Name, get)
	default:
		return nil, nil, fmt.Errorf("cannot diagnose a %s", t.Kind)
	}
	if err != nil {
		return nil, nil, err
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template, o.Spec.Selector, nil
	case *appsv1.StatefulSet:
		return &o.Spec.Template, o.Spec.Selector, nil
	case *appsv1.DaemonSet:
		return &o.Spec.Template, o.Spec.Selector, nil
	case *batchv1.Job:
		return &o.Spec.Template, o.Spec.Selector, nil
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template, nil, nil
	}
	return nil, nil, fmt.Errorf("unexpected %T", obj)
}

func (in *Inspector) notFoundHint(ctx context.Context, err error, t Target) error {
	if apierrors.IsNotFound(err) {
		if nsErr := in.requireNamespace(ctx, t.Namespace); nsErr != nil {
			return nsErr
		}
		return fmt.Errorf("%s %s not found in namespace %s: %w", t.Kind, t.Name, t.Namespace, ErrNotFound)
	}
	return fmt.Errorf("read %s/%s: %w", t.Kind, t.Name, err)
}

// podOwner names the workload that owns a pod, as kubectl rollout takes it.
func podOwner(p corev1.Pod) string {
	for _, o := range p.OwnerReferences {
		switch o.Kind {
		case "ReplicaSet":
			if i := strings.LastIndex(o.Name, "-"); i > 0 {
				return "deployment/" + o.Name[:i]
			}
		case "StatefulSet", "DaemonSet", "Job":
			return strings.ToLower(o.Kind) + "/" + o.Name
		}
	}
	return ""
}
