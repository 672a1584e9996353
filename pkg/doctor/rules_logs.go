package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/report"
)

// LogFindings turns classified log lines into findings on target, one per id, with the lines as evidence
// (report.LogFindings).
func LogFindings(logs []logclass.Finding, target string) []Finding {
	return report.LogFindings(logs, target)
}

// logRules: the log findings, with fixes that depend on live state.
func logRules(_ Cluster, s Subject) []Finding {
	out := LogFindings(s.Logs, saTarget(s.SA))
	arn := annotatedRole(s.SA)
	for i := range out {
		switch out[i].ID {
		case string(logclass.NodeRoleFallback), string(logclass.NoCredentials):
			switch {
			case arn == "":
				out[i].Fix = linkCommand(s, "")
			case len(s.Pods) > 0:
				out[i].Fix = restartCommand(s.Pods[0])
			}
		case string(logclass.PermissionMissing):
			out[i].Fix = linkCommand(s, arn)
			if slices.ContainsFunc(out[i].Evidence, encodedOnly) {
				out[i].Fix = "aws sts decode-authorization-message --encoded-message MESSAGE --query DecodedMessage --output text (needs sts:DecodeAuthorizationMessage) names the action; then " + out[i].Fix
			}
			if slices.ContainsFunc(out[i].Evidence, policyLimit) {
				out[i].Fix += "; where an SCP, a permissions boundary, a session policy or an explicit deny limits the role, an Allow on the role does not help: change that policy"
			}
		case string(logclass.TrustRejected):
			out[i].Fix = linkCommand(s, arn)
		case string(logclass.NoOIDCProvider):
			out[i].Fix = "kubectl irsa provider create"
		case string(logclass.PodIdentityEndpointUnreachable):
			out[i].Fix = "kubectl get daemonset eks-pod-identity-agent -n kube-system (install it: aws eks create-addon --cluster-name CLUSTER --addon-name eks-pod-identity-agent); with an HTTP(S)_PROXY, add 169.254.170.23 and fd00:ec2::23 to NO_PROXY"
		case string(logclass.PodIdentityDenied):
			out[i].Fix = fmt.Sprintf("aws eks list-pod-identity-associations --cluster-name CLUSTER --namespace %s --service-account %s, then let the role's trust allow the service principal pods.eks.amazonaws.com the actions sts:AssumeRole and sts:TagSession", s.SA.Namespace, s.SA.Name)
		case string(logclass.PodIdentityAgentNotListening):
			out[i].Fix = "kubectl logs -n kube-system daemonset/eks-pod-identity-agent -c eks-pod-identity-agent; free host port 80 on the node's link-local address (another hostNetwork pod or hostPort 80) or set the add-on's agent.additionalArgs port, and keep the init container that adds 169.254.170.23/fd00:ec2::23"
		case string(logclass.PodIdentityEKSAuthUnreachable):
			out[i].Fix = "from the node, reach https://eks-auth.REGION.api.aws (security groups, NACLs, NAT or the com.amazonaws.REGION.eks-auth VPC endpoint, HTTPS_PROXY of the agent); on EKS Hybrid nodes the agent needs that route too; give the SDK a longer timeout if EKS Auth is only slow"
		case string(logclass.PodIdentityBlockedByNetworkPolicy):
			out[i].Fix = fmt.Sprintf("add to the NetworkPolicy of namespace %s an egress rule to 169.254.170.23/32 (and fd00:ec2::23/128) on TCP port 80 (Cilium: toCIDR with toPorts 80)", s.SA.Namespace)
		case string(logclass.PodIdentityTokenMissing):
			restart := "restart the pod"
			if len(s.Pods) > 0 {
				restart = restartCommand(s.Pods[0])
			}
			out[i].Fix = restart + " so the webhook mounts the eks-pod-identity-token projected volume again (it must be in the pod's volumes), and let the container's user read it (securityContext.fsGroup)"
		case string(logclass.PodIdentityTokenEmpty):
			out[i].Fix = "the client sends no token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: upgrade the SDK (or sidecar, e.g. Envoy) to one that reads it, or use IRSA for this ServiceAccount; check that the projected token file is not empty"
		case string(logclass.PodIdentityTokenExpired):
			restart := "restart the pod"
			if len(s.Pods) > 0 {
				restart = restartCommand(s.Pods[0])
			}
			out[i].Fix = restart + " for a fresh token, and check that the node's kubelet reaches the API server (it refreshes the projected token) and that the node's clock is right"
		case string(logclass.PodIdentityAssociationRefused):
			out[i].Fix = fmt.Sprintf("aws eks list-pod-identity-associations --cluster-name CLUSTER --namespace %s --service-account %s (one association per ServiceAccount; the add-on version must support Pod Identity); kubectl irsa link %s -n %s --pod-identity writes a trust EKS accepts (pods.eks.amazonaws.com with sts:AssumeRole and sts:TagSession)", s.SA.Namespace, s.SA.Name, s.SA.Name, s.SA.Namespace)
		case string(logclass.PodIdentityOldSDK):
			out[i].Fix = "upgrade the application's AWS SDK to one with EKS Pod Identity support (Go v2 2023-11-14, Go v1 1.47.11, Java v2 2.21.30, Java v1 1.12.746, boto3/botocore 1.34.41, CLI 2.15.0 / 1.30.0, JS v3 3.458.0, JS v2 2.1550.0, .NET 3.7.734.0, Ruby 3.188.0, PHP 3.287.1), or use IRSA for this ServiceAccount"
		}
	}
	return out
}

// encodedOnly: the evidence of a denial whose caller and action are only in the encoded authorization message.
func encodedOnly(ev string) bool {
	return strings.Contains(ev, "Encoded authorization failure message") && !strings.Contains(ev, "is not authorized to perform:")
}
