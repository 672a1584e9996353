package e2e

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// annotateServiceAccount sets one annotation on an existing ServiceAccount.
func annotateServiceAccount(t *testing.T, ns, name, key, value string) {
	t.Helper()
	ctx := context.Background()
	sa, err := kube.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sa.Annotations == nil {
		sa.Annotations = map[string]string{}
	}
	sa.Annotations[key] = value
	if _, err := kube.CoreV1().ServiceAccounts(ns).Update(ctx, sa, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createPlainPod creates a pod with no AWS env or volume and returns it as kube-apiserver stored it (after the
// admission webhooks).
func createPlainPod(t *testing.T, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	got, err := kube.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func envMap(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		m[e.Name] = e.Value
	}
	return m
}

func envNames(c corev1.Container) []string {
	var out []string
	for _, e := range c.Env {
		out = append(out, e.Name)
	}
	return out
}

func podVolume(p *corev1.Pod, name string) *corev1.Volume {
	for i := range p.Spec.Volumes {
		if p.Spec.Volumes[i].Name == name {
			return &p.Spec.Volumes[i]
		}
	}
	return nil
}

func mountOf(c corev1.Container, volume string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == volume {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

// checkTokenVolume checks the projected ServiceAccount token volume the webhook added.
func checkTokenVolume(t *testing.T, p *corev1.Pod, name, audience, path string, expiration int64) {
	t.Helper()
	v := podVolume(p, name)
	if v == nil || v.Projected == nil || len(v.Projected.Sources) != 1 || v.Projected.Sources[0].ServiceAccountToken == nil {
		t.Fatalf("pod %s: no projected token volume %s: %+v", p.Name, name, p.Spec.Volumes)
	}
	tok := v.Projected.Sources[0].ServiceAccountToken
	if tok.Audience != audience || tok.Path != path || tok.ExpirationSeconds == nil || *tok.ExpirationSeconds != expiration {
		t.Errorf("pod %s volume %s: audience %q path %q expiration %v, want %q %q %d", p.Name, name, tok.Audience, tok.Path, tok.ExpirationSeconds, audience, path, expiration)
	}
}

// TestSandboxWebhookIRSA: plain pods of an annotated ServiceAccount get what the EKS pod identity webhook injects,
// with the documented ServiceAccount and pod annotations honoured.
func TestSandboxWebhookIRSA(t *testing.T) {
	ns := "hook-irsa"
	createNamespace(t, ns)
	role := "arn:aws:iam::" + account + ":role/hook-irsa"
	createServiceAccount(t, ns, "app", map[string]string{sandbox.AnnotationRoleARN: role})
	createServiceAccount(t, ns, "tuned", map[string]string{
		sandbox.AnnotationRoleARN: role, sandbox.AnnotationAudience: "custom.example.com",
		sandbox.AnnotationRegionalSTS: "true", sandbox.AnnotationTokenExpiration: "3600",
	})
	createServiceAccount(t, ns, "plain", nil)

	pod := createPlainPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}, Spec: corev1.PodSpec{
		ServiceAccountName: "app",
		InitContainers:     []corev1.Container{{Name: "init", Image: "busybox"}},
		Containers: []corev1.Container{
			{Name: "main", Image: "amazon/aws-cli"},
			{Name: "preset", Image: "amazon/aws-cli", Env: []corev1.EnvVar{{Name: "AWS_REGION", Value: "eu-west-1"}, {Name: "AWS_ROLE_ARN", Value: "arn:aws:iam::" + account + ":role/mine"}}},
		},
	}})
	want := map[string]string{
		"AWS_ROLE_ARN": role, "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
		"AWS_REGION": sandbox.Region, "AWS_DEFAULT_REGION": sandbox.Region,
	}
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers[0]) {
		got := envMap(c)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("container %s: %s=%q, want %q (env %v)", c.Name, k, got[k], v, c.Env)
			}
		}
		if _, ok := got["AWS_STS_REGIONAL_ENDPOINTS"]; ok {
			t.Errorf("container %s: AWS_STS_REGIONAL_ENDPOINTS without the annotation", c.Name)
		}
		if m := mountOf(c, "aws-iam-token"); m == nil || m.MountPath != "/var/run/secrets/eks.amazonaws.com/serviceaccount" || !m.ReadOnly {
			t.Errorf("container %s: token mount %+v", c.Name, m)
		}
	}
	// Variables already set are never overwritten: the container's own role and region stay, and the region
	// pair is not completed.
	preset := envMap(pod.Spec.Containers[1])
	if preset["AWS_ROLE_ARN"] != "arn:aws:iam::"+account+":role/mine" || preset["AWS_REGION"] != "eu-west-1" {
		t.Errorf("preset env overwritten: %v", pod.Spec.Containers[1].Env)
	}
	if _, ok := preset["AWS_WEB_IDENTITY_TOKEN_FILE"]; ok {
		t.Errorf("token file added next to a preset AWS_ROLE_ARN: %v", pod.Spec.Containers[1].Env)
	}
	if _, ok := preset["AWS_DEFAULT_REGION"]; ok {
		t.Errorf("AWS_DEFAULT_REGION added next to a preset AWS_REGION: %v", pod.Spec.Containers[1].Env)
	}
	checkTokenVolume(t, pod, "aws-iam-token", "sts.amazonaws.com", "token", 86400)
	if podVolume(pod, "eks-pod-identity-token") != nil {
		t.Error("Pod Identity volume on an IRSA pod")
	}

	// ServiceAccount annotations: audience, regional STS, token expiration; pod annotations: skip-containers and
	// token-expiration (below the 600 s minimum: raised to it).
	tuned := createPlainPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "tuned", Namespace: ns}, Spec: corev1.PodSpec{
		ServiceAccountName: "tuned", Containers: []corev1.Container{{Name: "main", Image: "x"}, {Name: "sidecar", Image: "x"}},
	}})
	checkTokenVolume(t, tuned, "aws-iam-token", "custom.example.com", "token", 3600)
	if got := envMap(tuned.Spec.Containers[0]); got["AWS_STS_REGIONAL_ENDPOINTS"] != "regional" || got["AWS_ROLE_ARN"] != role {
		t.Errorf("tuned env: %v", tuned.Spec.Containers[0].Env)
	}
	skipped := createPlainPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "skipped", Namespace: ns, Annotations: map[string]string{
		sandbox.AnnotationSkipContainers: "sidecar", sandbox.AnnotationTokenExpiration: "100",
	}}, Spec: corev1.PodSpec{ServiceAccountName: "tuned", Containers: []corev1.Container{{Name: "main", Image: "x"}, {Name: "sidecar", Image: "x"}}}})
	checkTokenVolume(t, skipped, "aws-iam-token", "custom.example.com", "token", 600)
	if len(skipped.Spec.Containers[1].Env) != 0 || mountOf(skipped.Spec.Containers[1], "aws-iam-token") != nil {
		t.Errorf("skipped container mutated: %+v", skipped.Spec.Containers[1])
	}
	if envMap(skipped.Spec.Containers[0])["AWS_ROLE_ARN"] != role {
		t.Errorf("main container not mutated: %v", skipped.Spec.Containers[0].Env)
	}

	// No annotation, no association: nothing injected.
	plain := createPlainPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: ns}, Spec: corev1.PodSpec{
		ServiceAccountName: "plain", Containers: []corev1.Container{{Name: "main", Image: "x"}}}})
	if len(plain.Spec.Containers[0].Env) != 0 || podVolume(plain, "aws-iam-token") != nil {
		t.Errorf("unannotated pod mutated: %+v", plain.Spec)
	}
	// Mutation happens at admission only: annotating later leaves the existing pod as it was.
	annotateServiceAccount(t, ns, "plain", sandbox.AnnotationRoleARN, role)
	again, err := kube.CoreV1().Pods(ns).Get(context.Background(), "plain", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Spec.Containers[0].Env) != 0 {
		t.Errorf("existing pod changed after the annotation: %v", again.Spec.Containers[0].Env)
	}
}

// TestSandboxWebhookPodIdentity: a ServiceAccount with an EKS Pod Identity association gets the container
// credentials env and the eks-pod-identity-token volume; with both an association and a role annotation, Pod
// Identity takes precedence and nothing of IRSA is injected.
func TestSandboxWebhookPodIdentity(t *testing.T) {
	ctx := context.Background()
	ns := "hook-pi"
	createNamespace(t, ns)
	role := createPodIdentityRole(t, "hook-pi-role")
	createServiceAccount(t, ns, "pi", nil)
	createServiceAccount(t, ns, "both", map[string]string{sandbox.AnnotationRoleARN: "arn:aws:iam::" + account + ":role/hook-irsa"})
	client := eksClient()
	for _, sa := range []string{"pi", "both"} {
		out, err := client.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{
			ClusterName: aws.String(sandbox.ClusterName), Namespace: aws.String(ns), ServiceAccount: aws.String(sa), RoleArn: aws.String(role)})
		if err != nil {
			t.Fatal(err)
		}
		id := out.Association.AssociationId
		t.Cleanup(func() {
			_, _ = client.DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: id})
		})
	}
	for _, sa := range []string{"pi", "both"} {
		pod := createPlainPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns}, Spec: corev1.PodSpec{
			ServiceAccountName: sa, InitContainers: []corev1.Container{{Name: "init", Image: "x"}}, Containers: []corev1.Container{{Name: "main", Image: "x"}}}})
		for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
			got := envMap(c)
			if got["AWS_CONTAINER_CREDENTIALS_FULL_URI"] != "http://169.254.170.23/v1/credentials" ||
				got["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] != "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token" ||
				got["AWS_REGION"] != sandbox.Region || got["AWS_DEFAULT_REGION"] != sandbox.Region {
				t.Errorf("%s/%s: env %v", sa, c.Name, c.Env)
			}
			if slices.Contains(envNames(c), "AWS_ROLE_ARN") || slices.Contains(envNames(c), "AWS_WEB_IDENTITY_TOKEN_FILE") {
				t.Errorf("%s/%s: IRSA env next to Pod Identity: %v", sa, c.Name, c.Env)
			}
			if m := mountOf(c, "eks-pod-identity-token"); m == nil || m.MountPath != "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount" || !m.ReadOnly {
				t.Errorf("%s/%s: mount %+v", sa, c.Name, m)
			}
		}
		checkTokenVolume(t, pod, "eks-pod-identity-token", "pods.eks.amazonaws.com", "eks-pod-identity-token", 86400)
		if podVolume(pod, "aws-iam-token") != nil {
			t.Errorf("%s: IRSA volume next to Pod Identity", sa)
		}
	}
}
