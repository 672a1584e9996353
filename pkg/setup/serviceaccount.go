package setup

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

// serviceAccountState is a ServiceAccount as found before any change.
type serviceAccountState struct {
	Namespace, Name string
	Exists          bool
	// RoleARN is the current role annotation ("" when absent).
	RoleARN  string
	Audience string
	// Annotations are all of its annotations as read.
	Annotations map[string]string
}

// readServiceAccount checks the namespace and reads the ServiceAccount; a missing ServiceAccount is an error
// unless create is set.
func readServiceAccount(ctx context.Context, kube kubernetes.Interface, namespace, name string, create bool) (serviceAccountState, error) {
	st := serviceAccountState{Namespace: namespace, Name: name, Audience: iamref.DefaultAudience}
	if _, err := kube.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return st, errorf(ErrNamespaceMissing, "namespace %q not found: create it (kubectl create namespace %s)", namespace, namespace)
		}
		return st, fmt.Errorf("cannot read namespace %q: %w", namespace, err)
	}
	sa, err := kube.CoreV1().ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if !create {
			return st, errorf(ErrServiceAccountMissing, "serviceaccount %s/%s not found", namespace, name)
		}
		return st, nil
	case err != nil:
		return st, fmt.Errorf("cannot read serviceaccount %s/%s: %w", namespace, name, err)
	}
	st.Exists = true
	st.Annotations = sa.Annotations
	st.RoleARN = sa.Annotations[iamref.RoleARNAnnotation]
	st.Audience = iamref.Audience(sa.Annotations)
	return st, nil
}

// checkCanWrite asks the API server (SelfSubjectAccessReview) whether the user may create or patch the
// ServiceAccount, so a missing permission fails before anything is written in IAM.
func checkCanWrite(ctx context.Context, kube kubernetes.Interface, namespace, name string, create bool) error {
	verb := "patch"
	if create {
		verb, name = "create", ""
	}
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: verb, Resource: "serviceaccounts", Name: name},
	}}
	res, err := kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("cannot check Kubernetes permissions: %w", err)
	}
	if !res.Status.Allowed {
		return fmt.Errorf("your Kubernetes user may not %s serviceaccounts in namespace %s: ask a cluster admin for that RBAC permission", verb, namespace)
	}
	return nil
}

// setRoleAnnotation sets (or, with roleARN "", removes) the role annotation with a merge patch, creating the
// ServiceAccount when create is set.
func setRoleAnnotation(ctx context.Context, kube kubernetes.Interface, namespace, name, roleARN string, create bool) error {
	var value *string
	if roleARN != "" {
		value = &roleARN
	}
	annotations := map[string]*string{iamref.RoleARNAnnotation: value}
	if create {
		return createServiceAccount(ctx, kube, namespace, name, annotations)
	}
	return patchAnnotations(ctx, kube, namespace, name, annotations)
}

// Workload is a pod controller whose pod template uses a ServiceAccount.
type Workload struct {
	Kind, Namespace, Name string
}

// String is the form kubectl rollout takes: deployment/NAME.
func (w Workload) String() string { return w.Kind + "/" + w.Name }

// StalePods lists the ServiceAccount's running pods that lack the injected AWS_ROLE_ARN (they predate the
// annotation), and the workloads whose pod template uses the ServiceAccount.
func StalePods(ctx context.Context, kube kubernetes.Interface, namespace, sa string) (pods []string, workloads []Workload, err error) {
	podList, err := cluster.ListPods(ctx, kube, namespace, "")
	if err != nil {
		return nil, nil, err
	}
	for _, p := range podList {
		if cluster.PodServiceAccount(&p.Spec) == sa && p.DeletionTimestamp == nil && !cluster.PodHasEnv(&p.Spec, "AWS_ROLE_ARN") {
			pods = append(pods, p.Name)
		}
	}
	deps, err := cluster.ListDeployments(ctx, kube, namespace)
	if err != nil {
		return nil, nil, err
	}
	workloads = using(workloads, "deployment", namespace, sa, deps, func(d *appsv1.Deployment) (string, *corev1.PodSpec) { return d.Name, &d.Spec.Template.Spec })
	sts, err := cluster.ListStatefulSets(ctx, kube, namespace)
	if err != nil {
		return nil, nil, err
	}
	workloads = using(workloads, "statefulset", namespace, sa, sts, func(s *appsv1.StatefulSet) (string, *corev1.PodSpec) { return s.Name, &s.Spec.Template.Spec })
	dss, err := cluster.ListDaemonSets(ctx, kube, namespace)
	if err != nil {
		return nil, nil, err
	}
	workloads = using(workloads, "daemonset", namespace, sa, dss, func(d *appsv1.DaemonSet) (string, *corev1.PodSpec) { return d.Name, &d.Spec.Template.Spec })
	return pods, workloads, nil
}

// using appends the workloads of a kind whose pod template runs as the ServiceAccount.
func using[T any](workloads []Workload, kind, namespace, sa string, items []T, template func(*T) (string, *corev1.PodSpec)) []Workload {
	for i := range items {
		if name, spec := template(&items[i]); cluster.PodServiceAccount(spec) == sa {
			workloads = append(workloads, Workload{kind, namespace, name})
		}
	}
	return workloads
}

// Restart rolls a workload the way `kubectl rollout restart` does: a new restartedAt pod-template annotation.
func Restart(ctx context.Context, kube kubernetes.Interface, w Workload, now time.Time) error {
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{"kubectl.kubernetes.io/restartedAt": now.Format(time.RFC3339)}}}}})
	var err error
	switch w.Kind {
	case "deployment":
		_, err = kube.AppsV1().Deployments(w.Namespace).Patch(ctx, w.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	case "statefulset":
		_, err = kube.AppsV1().StatefulSets(w.Namespace).Patch(ctx, w.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	case "daemonset":
		_, err = kube.AppsV1().DaemonSets(w.Namespace).Patch(ctx, w.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	default:
		err = fmt.Errorf("cannot restart a %s", w.Kind)
	}
	if err != nil {
		return fmt.Errorf("restart %s in %s: %w", w, w.Namespace, err)
	}
	return nil
}
