package setup

import (
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNoProxyCovers(t *testing.T) {
	for list, want := range map[string]bool{
		"":                               false,
		",localhost,10.0.0.0/8":          false,
		",169.254.170.23":                true,
		",localhost, 169.254.0.0/16":     true,
		",*":                             true,
		",169.254.170.2,169.254.169.254": false,
	} {
		if got := doctor.NoProxyCovers(list, PodIdentityAgentAddress); got != want {
			t.Errorf("NoProxyCovers(%q) = %v, want %v", list, got, want)
		}
	}
}

func TestPodChecks(t *testing.T) {
	p := &preflight{nodes: map[string]*corev1.Node{
		"win-1":  {ObjectMeta: metav1.ObjectMeta{Name: "win-1", Labels: map[string]string{"kubernetes.io/os": "windows"}}},
		"linux1": {ObjectMeta: metav1.ObjectMeta{Name: "linux1", Labels: map[string]string{"kubernetes.io/os": "linux"}}},
	}}
	pod := func(node, image string, env ...corev1.EnvVar) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: image, Env: env}}}}
	}
	cases := []struct {
		pod  *corev1.Pod
		want string
	}{
		{pod("linux1", "amazon/aws-cli:2.15.0"), ""},
		{pod("win-1", "app:1"), "Windows"},
		{pod("fargate-ip-10-0-0-1.ec2.internal", "app:1"), "Fargate"},
		{pod("linux1", "amazon/aws-cli:2.13.5"), "PodIdentityOldSDK"},
		{pod("linux1", "public.ecr.aws/aws-cli/aws-cli:1.29.9"), "PodIdentityOldSDK"},
		{pod("linux1", "app:1", corev1.EnvVar{Name: "https_proxy", Value: "http://p:3128"}), "PodIdentityProxy"},
		{pod("linux1", "app:1", corev1.EnvVar{Name: "HTTP_PROXY", Value: "http://p:3128"}, corev1.EnvVar{Name: "NO_PROXY", Value: "169.254.170.23"}), ""},
	}
	for _, c := range cases {
		got := strings.Join(p.podChecks(c.pod), "\n")
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s %s %v: got %q, want %q", c.pod.Spec.NodeName, c.pod.Spec.Containers[0].Image, c.pod.Spec.Containers[0].Env, got, c.want)
		}
	}
}
