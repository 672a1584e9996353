package report

import (
	"fmt"

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
