package sandbox

import (
	"context"
	"crypto/tls"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Annotations and values of the EKS pod identity webhook.
const (
	AnnotationRoleARN         = "eks.amazonaws.com/role-arn"
	AnnotationAudience        = "eks.amazonaws.com/audience"
	AnnotationRegionalSTS     = "eks.amazonaws.com/sts-regional-endpoints"
	AnnotationTokenExpiration = "eks.amazonaws.com/token-expiration"
	AnnotationSkipContainers  = "eks.amazonaws.com/skip-containers"

	IRSAVolume        = "aws-iam-token"
	IRSAMountPath     = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
	IRSATokenFile     = IRSAMountPath + "/token"
	IRSAAudience      = "sts.amazonaws.com"
	PodIdentityVolume = "eks-pod-identity-token"
	// PodIdentityMountPath holds the Pod Identity token file eks-pod-identity-token.
	PodIdentityMountPath = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"
	PodIdentityTokenFile = PodIdentityMountPath + "/eks-pod-identity-token"
	// PodIdentityCredentialsURI is the EKS Pod Identity Agent's endpoint.
	PodIdentityCredentialsURI = "http://169.254.170.23/v1/credentials"

	defaultTokenExpiration int64 = 86400
	minTokenExpiration     int64 = 600

	// WebhookConfigurationName is the MutatingWebhookConfiguration the sandbox registers.
	WebhookConfigurationName = "pod-identity-webhook"
)

// Webhook is the sandbox's pod identity webhook: a mutating admission webhook served over TLS on loopback and
// registered with kube-apiserver, injecting into pods at creation what the EKS pod identity webhook injects.
//
// IRSA (ServiceAccount annotated eks.amazonaws.com/role-arn): AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE,
// AWS_STS_REGIONAL_ENDPOINTS=regional when the ServiceAccount has sts-regional-endpoints "true", AWS_DEFAULT_REGION
// and AWS_REGION, and the projected token volume aws-iam-token (audience from eks.amazonaws.com/audience or
// sts.amazonaws.com; expiration from the pod's, else the ServiceAccount's eks.amazonaws.com/token-expiration, else
// 86400, at least 600) mounted read-only at /var/run/secrets/eks.amazonaws.com/serviceaccount.
//
// EKS Pod Identity (the ServiceAccount has an association in the emulator): AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE with the volume eks-pod-identity-token (audience pods.eks.amazonaws.com)
// at /var/run/secrets/pods.eks.amazonaws.com/serviceaccount, plus the region and regional-STS variables. When a
// ServiceAccount has both, Pod Identity takes precedence and the IRSA variables and volume are not injected.
//
// Containers and init containers alike, except those named in the pod's eks.amazonaws.com/skip-containers; a
// variable group already set in a container is left as it is; a volume already present is not added again.
type Webhook struct {
	// URL is the webhook's https address (loopback).
	URL string
	// Requests counts the admission reviews served.
	Requests atomic.Int64

	kube   kubernetes.Interface
	eks    *EKSEmulator
	region string
	// cluster is the EKS cluster whose associations apply ("" is ClusterName).
	cluster string
	server  *http.Server
	caPEM   []byte
}

func startWebhook(kube kubernetes.Interface, eks *EKSEmulator, certFile, keyFile string) (*Webhook, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	wh := &Webhook{kube: kube, eks: eks, region: Region, URL: "https://" + l.Addr().String() + "/mutate"}
	mux := http.NewServeMux()
	mux.HandleFunc("/mutate", wh.serve)
	wh.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go func() { _ = wh.server.ServeTLS(l, "", "") }()
	return wh, nil
}

// Close stops serving (kube-apiserver then admits pods unmutated: failurePolicy Ignore).
func (wh *Webhook) Close() { _ = wh.server.Close() }

// Unregister deletes the MutatingWebhookConfiguration, as on a cluster without the webhook: pods created from then
// on are admitted unmutated (kube-apiserver notices the deletion within about a second).
func (wh *Webhook) Unregister(ctx context.Context) error {
	err := wh.kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(ctx, WebhookConfigurationName, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// Register creates the MutatingWebhookConfiguration again (after Unregister) and waits until kube-apiserver calls
// the webhook.
func (wh *Webhook) Register(ctx context.Context) error {
	return wh.register(ctx, wh.caPEM)
}

// register creates the MutatingWebhookConfiguration (clientConfig.url and caBundle, pods CREATE, failurePolicy
// Ignore as EKS registers its webhook) and waits until kube-apiserver calls the webhook.
func (wh *Webhook) register(ctx context.Context, caPEM []byte) error {
	wh.caPEM = caPEM
	ignore := admissionregistrationv1.Ignore
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(10)
	cfg := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: WebhookConfigurationName},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    "pod-identity-webhook.amazonaws.com",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &wh.URL, CABundle: caPEM},
			Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}}},
			FailurePolicy:           &ignore,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	if _, err := wh.kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, cfg, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("register webhook: %w", err)
	}
	// kube-apiserver picks the configuration up asynchronously: probe with dry-run pods until it calls us.
	const probe = "pod-identity-webhook-probe"
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: probe, Namespace: "kube-system"}}
	if _, err := wh.kube.CoreV1().ServiceAccounts("kube-system").Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	defer func() {
		_ = wh.kube.CoreV1().ServiceAccounts("kube-system").Delete(context.WithoutCancel(ctx), probe, metav1.DeleteOptions{})
	}()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: probe, Namespace: "kube-system"},
		Spec: corev1.PodSpec{ServiceAccountName: probe, Containers: []corev1.Container{{Name: "probe", Image: "busybox"}}}}
	before := wh.Requests.Load()
	deadline := time.Now().Add(30 * time.Second)
	for wh.Requests.Load() == before {
		if time.Now().After(deadline) {
			return fmt.Errorf("kube-apiserver did not call the webhook at %s within 30s", wh.URL)
		}
		_, _ = wh.kube.CoreV1().Pods("kube-system").Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if wh.Requests.Load() == before {
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

func (wh *Webhook) serve(w http.ResponseWriter, r *http.Request) {
	wh.Requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		http.Error(w, "bad admission review", http.StatusBadRequest)
		return
	}
	resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
	var pod corev1.Pod
	if err := json.Unmarshal(review.Request.Object.Raw, &pod); err == nil {
		pod.Namespace = review.Request.Namespace
		if patch, err := wh.patch(r.Context(), &pod); err == nil && patch != nil {
			pt := admissionv1.PatchTypeJSONPatch
			resp.Patch, resp.PatchType = patch, &pt
		}
	}
	out := admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// mutation is what one mechanism injects.
type mutation struct {
	volume, mountPath, tokenPath, audience string
	expiration                             int64
	regionalSTS                            bool
	// env is the mechanism's variable group, set only when none of its variables is already set.
	env []corev1.EnvVar
}

// patch is the JSON patch for a pod, or nil when the pod's ServiceAccount has neither an association nor a role.
func (wh *Webhook) patch(ctx context.Context, pod *corev1.Pod) ([]byte, error) {
	saName := pod.Spec.ServiceAccountName
	if saName == "" {
		saName = "default"
	}
	var annotations map[string]string
	if sa, err := wh.kube.CoreV1().ServiceAccounts(pod.Namespace).Get(ctx, saName, metav1.GetOptions{}); err == nil {
		annotations = sa.Annotations
	}
	expiration := defaultTokenExpiration
	if v, err := strconv.ParseInt(annotations[AnnotationTokenExpiration], 10, 64); err == nil {
		expiration = max(v, minTokenExpiration)
	}
	if v, err := strconv.ParseInt(pod.Annotations[AnnotationTokenExpiration], 10, 64); err == nil {
		expiration = max(v, minTokenExpiration)
	}
	m := mutation{expiration: expiration, regionalSTS: annotations[AnnotationRegionalSTS] == "true"}
	windows := pod.Spec.NodeSelector["kubernetes.io/os"] == "windows" || pod.Spec.NodeSelector["beta.kubernetes.io/os"] == "windows"
	filePath := func(p string) string {
		if windows {
			return "C:" + strings.ReplaceAll(p, "/", `\`)
		}
		return p
	}
	cluster := wh.cluster
	if cluster == "" {
		cluster = ClusterName
	}
	_, associated := wh.eks.AssociationFor(cluster, pod.Namespace, saName)
	role := annotations[AnnotationRoleARN]
	switch {
	case associated: // Pod Identity takes precedence over IRSA.
		m.volume, m.mountPath, m.tokenPath, m.audience = PodIdentityVolume, PodIdentityMountPath, path.Base(PodIdentityTokenFile), PodIdentityAudience
		m.env = []corev1.EnvVar{
			{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: PodIdentityCredentialsURI},
			{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", Value: filePath(PodIdentityTokenFile)},
		}
	case role != "":
		m.volume, m.mountPath, m.tokenPath, m.audience = IRSAVolume, IRSAMountPath, path.Base(IRSATokenFile), IRSAAudience
		if a := annotations[AnnotationAudience]; a != "" {
			m.audience = a
		}
		m.env = []corev1.EnvVar{
			{Name: "AWS_ROLE_ARN", Value: role},
			{Name: "AWS_WEB_IDENTITY_TOKEN_FILE", Value: filePath(IRSATokenFile)},
		}
	default:
		return nil, nil
	}
	skip := map[string]bool{}
	if v, ok := pod.Annotations[AnnotationSkipContainers]; ok {
		if names, err := csv.NewReader(strings.NewReader(v)).Read(); err == nil {
			for _, n := range names {
				skip[strings.TrimSpace(n)] = true
			}
		}
	}
	type op struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}
	var ops []op
	hasVolume := false
	for _, v := range pod.Spec.Volumes {
		hasVolume = hasVolume || v.Name == m.volume
	}
	if !hasVolume {
		vol := corev1.Volume{Name: m.volume, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
				Audience: m.audience, ExpirationSeconds: &m.expiration, Path: m.tokenPath}}}}}}
		ops = append(ops, op{"add", "/spec/volumes", append([]corev1.Volume{vol}, pod.Spec.Volumes...)})
	}
	if containers, changed := wh.mutateContainers(pod.Spec.Containers, m, skip); changed {
		ops = append(ops, op{"add", "/spec/containers", containers})
	}
	if containers, changed := wh.mutateContainers(pod.Spec.InitContainers, m, skip); changed {
		ops = append(ops, op{"add", "/spec/initContainers", containers})
	}
	if len(ops) == 0 {
		return nil, nil
	}
	return json.Marshal(ops)
}

func (wh *Webhook) mutateContainers(in []corev1.Container, m mutation, skip map[string]bool) ([]corev1.Container, bool) {
	out := make([]corev1.Container, len(in))
	changed := false
	for i, c := range in {
		c.Env = append([]corev1.EnvVar(nil), c.Env...)
		c.VolumeMounts = append([]corev1.VolumeMount(nil), c.VolumeMounts...)
		if !skip[c.Name] && wh.mutateContainer(&c, m) {
			changed = true
		}
		out[i] = c
	}
	return out, changed
}

// mutateContainer adds the variables and the token mount; it never overwrites a variable already set.
func (wh *Webhook) mutateContainer(c *corev1.Container, m mutation) bool {
	set := map[string]bool{}
	for _, e := range c.Env {
		set[e.Name] = true
	}
	changed := false
	if m.regionalSTS && !set["AWS_STS_REGIONAL_ENDPOINTS"] {
		c.Env = append(c.Env, corev1.EnvVar{Name: "AWS_STS_REGIONAL_ENDPOINTS", Value: "regional"})
		changed = true
	}
	if wh.region != "" && !set["AWS_REGION"] && !set["AWS_DEFAULT_REGION"] {
		c.Env = append(c.Env, corev1.EnvVar{Name: "AWS_DEFAULT_REGION", Value: wh.region}, corev1.EnvVar{Name: "AWS_REGION", Value: wh.region})
		changed = true
	}
	groupSet := false
	for _, e := range m.env {
		groupSet = groupSet || set[e.Name]
	}
	if !groupSet {
		c.Env = append(c.Env, m.env...)
		changed = true
	}
	mounted := false
	for _, vm := range c.VolumeMounts {
		mounted = mounted || vm.Name == m.volume
	}
	if !mounted {
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: m.volume, ReadOnly: true, MountPath: m.mountPath})
		changed = true
	}
	return changed
}
