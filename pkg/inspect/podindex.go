package inspect

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
)

// PodIndex holds pods by namespace and ServiceAccount, so that a fleet's ServiceAccounts find their pods in
// one pass over the pods instead of one pass each (5,000 ServiceAccounts and 10,000 pods: 50 million checks).
type PodIndex map[string][]corev1.Pod

// IndexPods indexes pods by the ServiceAccount they run as.
func IndexPods(pods []corev1.Pod) PodIndex {
	idx := PodIndex{}
	for _, p := range pods {
		key := p.Namespace + "/" + cluster.PodServiceAccount(&p.Spec)
		idx[key] = append(idx[key], p)
	}
	return idx
}

// Of returns the pods that run as the ServiceAccount, in list order (as PodsOf).
func (x PodIndex) Of(namespace, name string) []corev1.Pod { return x[namespace+"/"+name] }
