package setup

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
)

// PodIdentityAgentAddress is where the EKS Pod Identity Agent serves credentials; a proxy must not catch it.
const PodIdentityAgentAddress = "169.254.170.23"

// addonServiceAccounts are ServiceAccounts EKS add-ons install: they move through the add-on's own
// podIdentityAssociations, not through a standalone association.
var addonServiceAccounts = map[string]string{
	"kube-system/aws-node":                     "vpc-cni",
	"kube-system/ebs-csi-controller-sa":        "aws-ebs-csi-driver",
	"kube-system/efs-csi-controller-sa":        "aws-efs-csi-driver",
	"kube-system/s3-csi-driver-sa":             "aws-mountpoint-s3-csi-driver",
	"amazon-cloudwatch/cloudwatch-agent":       "amazon-cloudwatch-observability",
	"kube-system/aws-load-balancer-controller": "aws-load-balancer-controller",
}

// preflight checks, per ServiceAccount, what would make Pod Identity fail where IRSA works. Cluster-wide reads
// (agent, nodes, node roles) are done once per run, pods once per namespace, logs of one pod per ServiceAccount.
type preflight struct {
	m    *Migrator
	pods map[string][]corev1.Pod

	clusterDone      bool
	clusterWide      []string
	clusterUnchecked []string
	nodes            map[string]*corev1.Node
	// clusterARN is the cluster's ARN from DescribeCluster ("" when unread), the resource of
	// eks-auth:AssumeRoleForPodIdentity; policyDocs caches the managed policies read for node roles, by ARN.
	clusterARN string
	policyDocs map[string]policyRead
}

// check returns the reasons that block the ServiceAccount's migration (each with its fix) and what could not be
// checked (shown, not blocking). withLogs reads the recent logs of one of its pods for old SDKs.
func (p *preflight) check(ctx context.Context, sa *corev1.ServiceAccount, roleARN string, withLogs bool) (reasons, unchecked []string) {
	key := sa.Namespace + "/" + sa.Name
	addon := addonServiceAccounts[key]
	if addon == "" && strings.EqualFold(sa.Labels["app.kubernetes.io/managed-by"], "eks") {
		addon = "ADDON"
	}
	if addon != "" {
		return []string{fmt.Sprintf("ManagedByAddon: %s is managed by the EKS add-on %s; move it through the add-on: aws eks update-addon --cluster-name %s --addon-name %s --pod-identity-associations serviceAccount=%s,roleArn=%s",
			key, addon, p.m.Cluster, addon, sa.Name, roleARN)}, nil
	}
	if !p.clusterDone {
		p.clusterDone = true
		p.clusterWide, p.clusterUnchecked = p.clusterChecks(ctx)
	}
	reasons = append([]string(nil), p.clusterWide...)
	unchecked = append([]string(nil), p.clusterUnchecked...)
	pods, ok := p.pods[sa.Namespace]
	if !ok {
		var err error
		if pods, err = cluster.ListPods(ctx, p.m.Kube, sa.Namespace, ""); err != nil {
			return append(reasons, fmt.Sprintf("cannot list pods in %s to check compute, SDKs and proxies: %v", sa.Namespace, err)), unchecked
		}
		p.pods[sa.Namespace] = pods
	}
	var own []*corev1.Pod
	for i := range pods {
		pod := &pods[i]
		if cluster.PodServiceAccount(&pod.Spec) != sa.Name || pod.DeletionTimestamp != nil {
			continue
		}
		own = append(own, pod)
		reasons = append(reasons, p.podChecks(pod)...)
	}
	if withLogs {
		r, u := p.logChecks(ctx, own)
		reasons, unchecked = append(reasons, r...), append(unchecked, u...)
	}
	return reasons, unchecked
}

// clusterChecks: the agent is installed, and the node roles (aws-auth, EKS access entries) may call
// eks-auth:AssumeRoleForPodIdentity. What cannot be read is returned as unchecked.
func (p *preflight) clusterChecks(ctx context.Context) (reasons, unchecked []string) {
	if ok, note := p.m.AgentInstalled(ctx); !ok {
		reasons = append(reasons, "PodIdentityAgentMissing: "+note)
	}
	nodes, err := cluster.ListNodes(ctx, p.m.Kube)
	if err != nil {
		// Without the nodes, a pod on a Fargate or Windows node is told apart only by its own labels.
		unchecked = append(unchecked, "could not check the nodes' compute type and OS (Fargate, Windows): "+kubeReason(err))
	}
	p.nodes = map[string]*corev1.Node{}
	for i := range nodes {
		p.nodes[nodes[i].Name] = &nodes[i]
	}
	r, u := p.nodeRoleChecks(ctx)
	return append(reasons, r...), append(unchecked, u...)
}

// podChecks: Fargate or Windows, an AWS CLI image older than Pod Identity's minimum, a proxy that would catch
// the agent's address.
func (p *preflight) podChecks(pod *corev1.Pod) []string {
	var out []string
	node := p.nodes[pod.Spec.NodeName]
	switch {
	case strings.EqualFold(pod.Labels["eks.amazonaws.com/compute-type"], "fargate") || strings.HasPrefix(pod.Spec.NodeName, "fargate-") ||
		node != nil && strings.EqualFold(node.Labels["eks.amazonaws.com/compute-type"], "fargate"):
		out = append(out, fmt.Sprintf("PodIdentityUnsupportedCompute: pod %s runs on Fargate, where EKS Pod Identity is not supported: keep IRSA", pod.Name))
	case pod.Spec.NodeSelector["kubernetes.io/os"] == "windows" || node != nil && node.Labels["kubernetes.io/os"] == "windows":
		out = append(out, fmt.Sprintf("PodIdentityUnsupportedCompute: pod %s runs on a Windows node, where EKS Pod Identity is not supported: keep IRSA", pod.Name))
	}
	containers := append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range containers {
		if old, ok := doctor.OldPodIdentitySDKInImage(c.Image); ok {
			out = append(out, fmt.Sprintf("PodIdentityOldSDK: container %s of pod %s: %s: upgrade the image first", c.Name, pod.Name, old))
		}
		var proxy, noProxy string
		for _, e := range c.Env {
			switch strings.ToUpper(e.Name) {
			case "HTTP_PROXY", "HTTPS_PROXY":
				if e.Value != "" || e.ValueFrom != nil {
					proxy = e.Name
				}
			case "NO_PROXY":
				noProxy += "," + e.Value
			}
		}
		if proxy != "" && !doctor.NoProxyCovers(noProxy, PodIdentityAgentAddress) {
			out = append(out, fmt.Sprintf("PodIdentityProxy: container %s of pod %s sets %s without NO_PROXY covering %s: the SDK would send the credential request to the proxy; add %s to NO_PROXY", c.Name, pod.Name, proxy, PodIdentityAgentAddress, PodIdentityAgentAddress))
		}
	}
	return out
}
