package setup

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
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
// (agent, nodes, node roles) are done once per run, pods once per namespace.
type preflight struct {
	m    *Migrator
	pods map[string][]corev1.Pod

	clusterDone bool
	clusterWide []string
	nodes       map[string]*corev1.Node
}

func (p *preflight) check(ctx context.Context, sa *corev1.ServiceAccount, roleARN string) []string {
	key := sa.Namespace + "/" + sa.Name
	addon := addonServiceAccounts[key]
	if addon == "" && strings.EqualFold(sa.Labels["app.kubernetes.io/managed-by"], "eks") {
		addon = "ADDON"
	}
	if addon != "" {
		return []string{fmt.Sprintf("ManagedByAddon: %s is managed by the EKS add-on %s; move it through the add-on: aws eks update-addon --cluster-name %s --addon-name %s --pod-identity-associations serviceAccount=%s,roleArn=%s",
			key, addon, p.m.Cluster, addon, sa.Name, roleARN)}
	}
	if !p.clusterDone {
		p.clusterDone = true
		p.clusterWide = p.clusterChecks(ctx)
	}
	reasons := append([]string(nil), p.clusterWide...)
	pods, ok := p.pods[sa.Namespace]
	if !ok {
		var err error
		if pods, err = cluster.ListPods(ctx, p.m.Kube, sa.Namespace, ""); err != nil {
			return append(reasons, fmt.Sprintf("cannot list pods in %s to check compute, SDKs and proxies: %v", sa.Namespace, err))
		}
		p.pods[sa.Namespace] = pods
	}
	for i := range pods {
		pod := &pods[i]
		if cluster.PodServiceAccount(&pod.Spec) != sa.Name || pod.DeletionTimestamp != nil {
			continue
		}
		reasons = append(reasons, p.podChecks(pod)...)
	}
	return reasons
}

// clusterChecks: the agent is installed, and the node roles named in aws-auth may call
// eks-auth:AssumeRoleForPodIdentity (when aws-auth and the roles can be read).
func (p *preflight) clusterChecks(ctx context.Context) []string {
	var out []string
	if ok, note := p.m.AgentInstalled(ctx); !ok {
		out = append(out, "PodIdentityAgentMissing: "+note)
	}
	if nodes, err := p.m.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
		p.nodes = map[string]*corev1.Node{}
		for i := range nodes.Items {
			p.nodes[nodes.Items[i].Name] = &nodes.Items[i]
		}
	}
	cm, err := p.m.Kube.CoreV1().ConfigMaps("kube-system").Get(ctx, "aws-auth", metav1.GetOptions{})
	if err != nil {
		return out // not readable (or access entries only): not checked
	}
	var mapRoles []struct {
		RoleARN string   `json:"rolearn"`
		Groups  []string `json:"groups"`
	}
	if yaml.Unmarshal([]byte(cm.Data["mapRoles"]), &mapRoles) != nil {
		return out
	}
	for _, r := range mapRoles {
		isNode := false
		for _, g := range r.Groups {
			isNode = isNode || g == "system:nodes"
		}
		role, err := iamref.ParseRole(r.RoleARN)
		if !isNode || err != nil {
			continue
		}
		if allowed, known := p.nodeRoleAllowed(ctx, role.Name); known && !allowed {
			out = append(out, fmt.Sprintf("PodIdentityNodeRole: node role %s may not call eks-auth:AssumeRoleForPodIdentity: attach arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy (aws iam attach-role-policy --role-name %s --policy-arn arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy)", role.Name, role.Name))
		}
	}
	return out
}

// nodeRoleAllowed looks for AmazonEKSWorkerNodePolicy or an inline policy naming eks-auth:AssumeRoleForPodIdentity
// (or a wildcard over it); known is false when the role cannot be read.
func (p *preflight) nodeRoleAllowed(ctx context.Context, roleName string) (allowed, known bool) {
	attached, err := attachedPolicies(ctx, p.m.IAM, roleName)
	if err != nil {
		return false, false
	}
	for _, a := range attached {
		if strings.HasSuffix(a, ":policy/AmazonEKSWorkerNodePolicy") {
			return true, true
		}
	}
	names, err := p.m.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(roleName)})
	if err != nil {
		return false, false
	}
	for _, n := range names.PolicyNames {
		out, err := p.m.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(n)})
		if err != nil {
			return false, false
		}
		doc, err := iamref.DecodePolicyDocument(aws.ToString(out.PolicyDocument))
		if err != nil {
			return false, false
		}
		if policyAllows(doc, "eks-auth:AssumeRoleForPodIdentity") {
			return true, true
		}
	}
	return false, true
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

// policyAllows reports whether an Allow statement of a permission policy names the action (wildcards, any
// case); Deny statements and conditions are not weighed: a preflight hint, not an evaluation.
func policyAllows(doc, action string) bool {
	var p struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return false
	}
	var sts []struct {
		Effect string
		Action json.RawMessage
	}
	if json.Unmarshal(p.Statement, &sts) != nil {
		var one struct {
			Effect string
			Action json.RawMessage
		}
		if json.Unmarshal(p.Statement, &one) != nil {
			return false
		}
		sts = append(sts, one)
	}
	for _, st := range sts {
		var actions []string
		if json.Unmarshal(st.Action, &actions) != nil {
			var a string
			_ = json.Unmarshal(st.Action, &a)
			actions = []string{a}
		}
		for _, a := range actions {
			if ok, _ := path.Match(strings.ToLower(a), strings.ToLower(action)); ok && st.Effect == "Allow" {
				return true
			}
		}
	}
	return false
}
