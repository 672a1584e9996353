package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

type addonJSON struct {
	AddonName             string            `json:"addonName"`
	ClusterName           string            `json:"clusterName"`
	Status                string            `json:"status"`
	AddonVersion          string            `json:"addonVersion"`
	Health                map[string]any    `json:"health"`
	AddonArn              string            `json:"addonArn"`
	CreatedAt             float64           `json:"createdAt"`
	ModifiedAt            float64           `json:"modifiedAt"`
	ServiceAccountRoleArn string            `json:"serviceAccountRoleArn,omitempty"`
	Tags                  map[string]string `json:"tags"`
}

func (a *Addon) wire() addonJSON {
	tags := a.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return addonJSON{AddonName: a.Name, ClusterName: a.ClusterName, Status: "ACTIVE", AddonVersion: a.Version,
		Health: map[string]any{"issues": []any{}}, AddonArn: a.ARN, CreatedAt: epoch(a.CreatedAt),
		ModifiedAt: epoch(a.CreatedAt), ServiceAccountRoleArn: a.ServiceAccountRoleARN, Tags: tags}
}

func (e *EKSEmulator) createAddon(ctx context.Context, cluster, clusterARN string, body []byte) (any, error) {
	var in struct {
		AddonName             string            `json:"addonName"`
		AddonVersion          string            `json:"addonVersion"`
		ServiceAccountRoleArn string            `json:"serviceAccountRoleArn"`
		Tags                  map[string]string `json:"tags"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{http.StatusBadRequest, "InvalidRequestException", "Invalid request body: " + err.Error()}
	}
	if in.AddonName != PodIdentityAgentAddon {
		return nil, invalidParameter("Addon " + in.AddonName + " specified is not supported")
	}
	if in.AddonVersion == "" {
		in.AddonVersion = "v1.3.8-eksbuild.2"
	}
	e.mu.Lock()
	for _, a := range e.addons[clusterARN] {
		if a.Name == in.AddonName {
			e.mu.Unlock()
			return nil, &apiError{http.StatusConflict, "ResourceInUseException", "Addon already exists."}
		}
	}
	a := &Addon{Name: in.AddonName, Version: in.AddonVersion, ClusterName: cluster, ServiceAccountRoleARN: in.ServiceAccountRoleArn,
		Tags: in.Tags, CreatedAt: e.now().UTC(),
		ARN: strings.Replace(clusterARN, ":cluster/", ":addon/", 1) + "/" + in.AddonName + "/" + requestID()}
	e.addons[clusterARN] = append(e.addons[clusterARN], a)
	e.mu.Unlock()
	// The agent add-on runs as a DaemonSet in kube-system, as on EKS (its pods never run here: no kubelet).
	if kube := e.cluster(clusterARN).kube; kube != nil && in.AddonName == PodIdentityAgentAddon {
		if err := createAgentDaemonSet(ctx, kube, cluster, in.AddonVersion); err != nil {
			return nil, err
		}
	}
	return map[string]any{"addon": a.wire()}, nil
}

func createAgentDaemonSet(ctx context.Context, kube kubernetes.Interface, cluster, version string) error {
	labels := map[string]string{"app.kubernetes.io/name": PodIdentityAgentAddon, "app.kubernetes.io/instance": PodIdentityAgentAddon}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: PodIdentityAgentAddon, Namespace: "kube-system", Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					HostNetwork: true,
					Containers: []corev1.Container{{
						Name:  "eks-pod-identity-agent",
						Image: "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/eks-pod-identity-agent:" + version,
						Args:  []string{"server", "--port", "80", "--cluster-name", cluster, "--probe-port", "2703"},
					}},
				},
			},
		},
	}
	_, err := kube.AppsV1().DaemonSets("kube-system").Create(ctx, ds, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (e *EKSEmulator) listAddons(clusterARN string, q url.Values, onePage bool) (any, error) {
	e.mu.Lock()
	var names []string
	for _, a := range e.addons[clusterARN] {
		names = append(names, a.Name)
	}
	e.mu.Unlock()
	got, next, err := page(names, q, onePage)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"addons": nonNil(got)}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (e *EKSEmulator) describeAddon(cluster, clusterARN, name string) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.addons[clusterARN] {
		if a.Name == name {
			return map[string]any{"addon": a.wire()}, nil
		}
	}
	return nil, notFound(fmt.Sprintf("No addon: %s found in cluster: %s", name, cluster))
}

func (e *EKSEmulator) deleteAddon(ctx context.Context, cluster, clusterARN, name string) (any, error) {
	e.mu.Lock()
	var found *Addon
	for _, a := range e.addons[clusterARN] {
		if a.Name == name {
			found = a
		}
	}
	if found == nil {
		e.mu.Unlock()
		return nil, notFound(fmt.Sprintf("No addon: %s found in cluster: %s", name, cluster))
	}
	e.addons[clusterARN] = slices.DeleteFunc(e.addons[clusterARN], func(a *Addon) bool { return a == found })
	e.mu.Unlock()
	if kube := e.cluster(clusterARN).kube; kube != nil && name == PodIdentityAgentAddon {
		err := kube.AppsV1().DaemonSets("kube-system").Delete(ctx, PodIdentityAgentAddon, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	w := found.wire()
	w.Status = "DELETING"
	return map[string]any{"addon": w}, nil
}

// accessEntriesAllowed: EKS serves access entries only to clusters in API or API_AND_CONFIG_MAP mode.
func (e *EKSEmulator) accessEntriesAllowed(clusterARN string) error {
	if e.authModes[clusterARN] == "CONFIG_MAP" {
		return &apiError{http.StatusBadRequest, "InvalidRequestException", "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation."}
	}
	return nil
}

func (e *EKSEmulator) listAccessEntries(clusterARN string, q url.Values, onePage bool) (any, error) {
	e.mu.Lock()
	err := e.accessEntriesAllowed(clusterARN)
	var principals []string
	for _, a := range e.accessEntries[clusterARN] {
		principals = append(principals, a.PrincipalARN)
	}
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	got, next, err := page(principals, q, onePage)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"accessEntries": nonNil(got)}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// accessEntryJSON is an access entry on the wire (DescribeAccessEntry's accessEntry).
type accessEntryJSON struct {
	ClusterName      string            `json:"clusterName"`
	PrincipalArn     string            `json:"principalArn"`
	KubernetesGroups []string          `json:"kubernetesGroups"`
	AccessEntryArn   string            `json:"accessEntryArn"`
	CreatedAt        float64           `json:"createdAt"`
	ModifiedAt       float64           `json:"modifiedAt"`
	Tags             map[string]string `json:"tags"`
	Username         string            `json:"username"`
	Type             string            `json:"type"`
}

func (e *EKSEmulator) describeAccessEntry(cluster, clusterARN, principal string) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.accessEntriesAllowed(clusterARN); err != nil {
		return nil, err
	}
	for _, a := range e.accessEntries[clusterARN] {
		if a.PrincipalARN != principal {
			continue
		}
		// arn:aws:eks:REGION:ACCOUNT:access-entry/CLUSTER/role/ACCOUNT/NAME/ID, as EKS names them.
		kind, account, name := "role", "", principal[strings.LastIndex(principal, "/")+1:]
		if parts := strings.SplitN(principal, ":", 6); len(parts) == 6 {
			account = parts[4]
			kind, _, _ = strings.Cut(parts[5], "/")
		}
		prefix, _, _ := strings.Cut(clusterARN, ":cluster/")
		groups := a.Groups
		if groups == nil {
			groups = []string{}
		}
		return map[string]any{"accessEntry": accessEntryJSON{ClusterName: cluster, PrincipalArn: a.PrincipalARN, KubernetesGroups: groups,
			AccessEntryArn: fmt.Sprintf("%s:access-entry/%s/%s/%s/%s/%x", prefix, cluster, kind, account, name, a.CreatedAt.UnixNano()&0xffffffff),
			CreatedAt:      epoch(a.CreatedAt), ModifiedAt: epoch(a.CreatedAt), Tags: map[string]string{}, Username: a.Username, Type: a.Type}}, nil
	}
	return nil, notFound("The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.")
}
