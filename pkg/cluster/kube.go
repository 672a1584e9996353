package cluster

import (
	"context"
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/pager"
)

// ValidateServiceAccountName checks a ServiceAccount name (a DNS-1123 subdomain).
func ValidateServiceAccountName(name string) error {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("invalid ServiceAccount name %q: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// ValidateNamespace checks a namespace name (a DNS-1123 label).
func ValidateNamespace(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fmt.Errorf("invalid namespace %q: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// PodServiceAccount is the ServiceAccount a pod runs as ("default" when unset).
func PodServiceAccount(spec *corev1.PodSpec) string {
	if spec.ServiceAccountName != "" {
		return spec.ServiceAccountName
	}
	if spec.DeprecatedServiceAccount != "" {
		return spec.DeprecatedServiceAccount
	}
	return "default"
}

// PodHasEnv reports whether any container sets the environment variable name.
func PodHasEnv(spec *corev1.PodSpec, name string) bool {
	for _, c := range spec.Containers {
		for _, e := range c.Env {
			if e.Name == name {
				return true
			}
		}
	}
	return false
}

// PageSize is the Limit of every Kubernetes list call; the pager follows Continue.
const PageSize = 500

// listAll lists every item of a resource page by page (Limit PageSize, then Continue).
func listAll[T any](ctx context.Context, what string, opts metav1.ListOptions, list func(context.Context, metav1.ListOptions) (runtime.Object, error)) ([]T, error) {
	p := pager.New(pager.SimplePageFunc(func(o metav1.ListOptions) (runtime.Object, error) { return list(ctx, o) }))
	p.PageSize = PageSize
	var out []T
	err := p.EachListItem(ctx, opts, func(obj runtime.Object) error {
		item, ok := any(obj).(*T)
		if !ok {
			return fmt.Errorf("list %s: unexpected item %T", what, obj)
		}
		out = append(out, *item)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return out, nil
}

func where(namespace string) string {
	if namespace == "" {
		return "in all namespaces"
	}
	return "in " + namespace
}

// ListServiceAccounts lists the ServiceAccounts of a namespace ("" for all).
func ListServiceAccounts(ctx context.Context, kube kubernetes.Interface, namespace string) ([]corev1.ServiceAccount, error) {
	return listAll[corev1.ServiceAccount](ctx, "serviceaccounts "+where(namespace), metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return kube.CoreV1().ServiceAccounts(namespace).List(ctx, o)
	})
}

// ListPods lists the pods of a namespace ("" for all) matching a label selector ("" for every pod).
func ListPods(ctx context.Context, kube kubernetes.Interface, namespace, selector string) ([]corev1.Pod, error) {
	return listAll[corev1.Pod](ctx, "pods "+where(namespace), metav1.ListOptions{LabelSelector: selector}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return kube.CoreV1().Pods(namespace).List(ctx, o)
	})
}

// ListNamespaces lists the namespaces.
func ListNamespaces(ctx context.Context, kube kubernetes.Interface) ([]corev1.Namespace, error) {
	return listAll[corev1.Namespace](ctx, "namespaces", metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return kube.CoreV1().Namespaces().List(ctx, o)
	})
}

// ListDeployments lists the Deployments of a namespace.
func ListDeployments(ctx context.Context, kube kubernetes.Interface, namespace string) ([]appsv1.Deployment, error) {
	return listAll[appsv1.Deployment](ctx, "deployments "+where(namespace), metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return kube.AppsV1().Deployments(namespace).List(ctx, o)
	})
}

// ListStatefulSets lists the StatefulSets of a namespace.
func ListStatefulSets(ctx context.Context, kube kubernetes.Interface, namespace string) ([]appsv1.StatefulSet, error) {
	return listAll[appsv1.StatefulSet](ctx, "statefulsets "+where(namespace), metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return kube.AppsV1().StatefulSets(namespace).List(ctx, o)
	})
}

// ListDaemonSets lists the DaemonSets of a namespace.
func ListDaemonSets(ctx context.Context, kube kubernetes.Interface, namespace string) ([]appsv1.DaemonSet, error) {
	return listAll[appsv1.DaemonSet](ctx, "daemonsets "+where(namespace), metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return kube.AppsV1().DaemonSets(namespace).List(ctx, o)
	})
}

// ListMutatingWebhooks lists the MutatingWebhookConfigurations.
func ListMutatingWebhooks(ctx context.Context, kube kubernetes.Interface) ([]admissionregistrationv1.MutatingWebhookConfiguration, error) {
	return listAll[admissionregistrationv1.MutatingWebhookConfiguration](ctx, "mutatingwebhookconfigurations", metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return kube.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, o)
	})
}

// ListNodes lists the cluster's nodes.
func ListNodes(ctx context.Context, kube kubernetes.Interface) ([]corev1.Node, error) {
	return listAll[corev1.Node](ctx, "nodes", metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return kube.CoreV1().Nodes().List(ctx, o)
	})
}
