package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
)

// LogFindings turns classified log lines into findings on target, one per id, with the lines as evidence.
func LogFindings(logs []logclass.Finding, target string) []Finding {
	var out []Finding
	for _, l := range logs {
		f := Finding{ID: string(l.ID), Severity: logSeverity(l.ID), Check: "logs", Target: target, Summary: logSummary(l)}
		f.Evidence = append(f.Evidence, fmt.Sprintf("log line %d: %s", l.Line, l.Excerpt))
		if l.Count > 1 {
			more := fmt.Sprintf("and %d more lines like it", l.Count-1)
			if len(l.Lines) > 1 {
				more += fmt.Sprintf(" (lines %v", l.Lines[1:])
				if l.Count > len(l.Lines) {
					more += ", ..."
				}
				more += ")"
			}
			f.Evidence = append(f.Evidence, more)
		}
		if l.Others > 0 {
			f.Evidence = append(f.Evidence, fmt.Sprintf("and %d more lines of this kind about other roles, actions or resources, "+
				"not shown: the log has more distinct findings than are kept", l.Others))
		}
		if l.Reason != "" {
			f.Evidence = append(f.Evidence, l.Reason+" (confidence "+l.Confidence+")")
		}
		if l.SDK != "" {
			f.Evidence = append(f.Evidence, "SDK: "+l.SDK)
		}
		out = append(out, f)
	}
	return Merge(out)
}

func logSeverity(id logclass.ID) Severity {
	if id == logclass.TokenExpired {
		return Warning
	}
	return Error
}

func logSummary(l logclass.Finding) string {
	switch l.ID {
	case logclass.NodeRoleFallback:
		return fmt.Sprintf("the pod used the node's instance role %s, not an IRSA role: the SDK found no web identity and fell back to EC2 instance metadata", l.Role)
	case logclass.PermissionMissing:
		if l.Role == "" && l.Action == "" {
			return "a call was denied (UnauthorizedOperation) and the caller and action are only in the encoded authorization message"
		}
		return fmt.Sprintf("role %s was assumed but is not allowed %s", l.Role, l.Action)
	case logclass.TrustRejected:
		return "STS refused AssumeRoleWithWebIdentity: the role's trust policy does not admit this ServiceAccount's token"
	case logclass.NoOIDCProvider:
		return "STS found no IAM OIDC provider for the cluster's issuer in the role's account"
	case logclass.BadAudience:
		return "the token's audience is not a client ID of the IAM OIDC provider"
	case logclass.TokenExpired:
		return "the web identity token or the credentials from it expired"
	case logclass.TokenUnreadable:
		return "the SDK cannot read the projected token file"
	case logclass.NoCredentials:
		return "the SDK found no credentials at all: no web identity environment and no instance role"
	case logclass.InvalidRoleARN:
		return "the role ARN the SDK passed to STS is malformed"
	case logclass.RegionOrEndpoint:
		return "no AWS region, or the STS endpoint cannot be resolved or reached"
	case logclass.Thumbprint:
		return "the IAM OIDC provider's thumbprint does not match the issuer's certificate"
	case logclass.StaticCredentials:
		return fmt.Sprintf("the caller is the IAM user %s: static access keys are used instead of the IRSA role", l.CallerARN)
	case logclass.PodIdentityEndpointUnreachable:
		return "the pod could not reach the EKS Pod Identity Agent (169.254.170.23 / [fd00:ec2::23]) for its credentials"
	case logclass.PodIdentityDenied:
		return "EKS Auth refused AssumeRoleForPodIdentity: the associated role does not trust pods.eks.amazonaws.com (sts:AssumeRole and sts:TagSession), or the node role may not call eks-auth:AssumeRoleForPodIdentity"
	case logclass.PodIdentityOldSDK:
		return "the application's AWS SDK predates EKS Pod Identity and refuses the agent's credentials endpoint"
	case logclass.PodIdentityAgentNotListening:
		return "the EKS Pod Identity Agent does not serve on 169.254.170.23:80 / [fd00:ec2::23]:80 (it failed to bind the address or its own probe of it failed)"
	case logclass.PodIdentityEKSAuthUnreachable:
		return "the EKS Pod Identity Agent's call to EKS Auth (AssumeRoleForPodIdentity) was canceled or timed out: the node does not reach eks-auth.REGION.api.aws in time"
	case logclass.PodIdentityBlockedByNetworkPolicy:
		return "a network policy drops the pod's traffic to the EKS Pod Identity Agent (169.254.170.23:80)"
	case logclass.PodIdentityTokenMissing:
		return "the SDK cannot read the Pod Identity token file (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)"
	case logclass.PodIdentityTokenEmpty:
		return "the EKS Pod Identity Agent received no token, or an empty or malformed one, from the pod"
	case logclass.PodIdentityTokenExpired:
		return "the Pod Identity token the pod sent had expired"
	case logclass.PodIdentityAssociationRefused:
		return "EKS refused the Pod Identity association (or EKS Auth found none for this ServiceAccount)"
	}
	return string(l.ID)
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
