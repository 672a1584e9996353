package doctor

import (
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
)

func TestPodIdentityLogFixes(t *testing.T) {
	lines := map[string]string{
		string(logclass.PodIdentityEndpointUnreachable):    `CredentialsEndpointError: failed to load credentials\ncaused by: RequestError: send request failed\ncaused by: Get "http://169.254.170.23/v1/credentials": dial tcp 169.254.170.23:80: connect: connection refused`,
		string(logclass.PodIdentityDenied):                 `Error when retrieving credentials from container-role: Error retrieving metadata: Received non 200 response 400 from container metadata: [1]: (AccessDeniedException): Unauthorized Exception! EKS does not have permissions to assume the associated role., fault: client`,
		string(logclass.PodIdentityOldSDK):                 `ValueError: Unsupported host '169.254.170.23'.  Can only retrieve metadata from these hosts: 169.254.170.2, localhost, 127.0.0.1`,
		string(logclass.PodIdentityAgentNotListening):      `{"level":"fatal","msg":"Unable to start server: listen tcp 169.254.170.23:80: bind: address already in use"}`,
		string(logclass.PodIdentityEKSAuthUnreachable):     `{"level":"error","msg":"Error fetching credentials: error getting credentials to cache: unable to fetch credentials from EKS Auth: operation error EKS Auth: AssumeRoleForPodIdentity, https response error StatusCode: 0, RequestID: , canceled, context canceled"}`,
		string(logclass.PodIdentityBlockedByNetworkPolicy): `Dec  5 09:12:01.442: irsa-sample-ns/app-1 (ID:5120) <> 169.254.170.23:80 (world) Policy denied DROPPED (TCP Flags: SYN)`,
		string(logclass.PodIdentityTokenMissing):           `failed to refresh cached credentials, failed to load credentials, failed to read authorization token from /var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token: open /var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token: no such file or directory`,
		string(logclass.PodIdentityTokenEmpty):             `{"level":"error","msg":"Error fetching credentials: Service account token cannot be empty"}`,
		string(logclass.PodIdentityTokenExpired):           `{"level":"error","msg":"Error fetching credentials: Service account token failed basic claim validations: token has invalid claims: token is expired"}`,
		string(logclass.PodIdentityAssociationRefused):     `An error occurred (InvalidParameterException) when calling the CreatePodIdentityAssociation operation: Trust policy of the role provided is invalid.`,
		string(logclass.PermissionMissing):                 `UnauthorizedOperation: You are not authorized to perform this operation. Encoded authorization failure message: Zx9\n\tstatus code: 403, request id: 1`,
	}
	want := map[string]string{
		string(logclass.PodIdentityEndpointUnreachable):    "eks-pod-identity-agent",
		string(logclass.PodIdentityDenied):                 "pods.eks.amazonaws.com",
		string(logclass.PodIdentityOldSDK):                 "upgrade",
		string(logclass.PodIdentityAgentNotListening):      "daemonset/eks-pod-identity-agent",
		string(logclass.PodIdentityEKSAuthUnreachable):     "eks-auth.REGION.api.aws",
		string(logclass.PodIdentityBlockedByNetworkPolicy): "169.254.170.23/32",
		string(logclass.PodIdentityTokenMissing):           "eks-pod-identity-token",
		string(logclass.PodIdentityTokenEmpty):             "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		string(logclass.PodIdentityTokenExpired):           "restart",
		string(logclass.PodIdentityAssociationRefused):     "--pod-identity",
		string(logclass.PermissionMissing):                 "aws sts decode-authorization-message",
	}
	for id, line := range lines {
		s := Subject{SA: annotatedSA(nil), Logs: classify(t, line)}
		f := find(logRules(Cluster{}, s), id)
		if f == nil {
			t.Errorf("%s: no finding from %s", id, line)
			continue
		}
		if f.Severity != Error || !strings.Contains(f.Fix, want[id]) || f.Summary == id {
			t.Errorf("%s: severity %s, summary %q, fix %q (want it to mention %q)", id, f.Severity, f.Summary, f.Fix, want[id])
		}
	}
}

func TestPermissionMissingUnderSCP(t *testing.T) {
	scp := `AccessDenied: User: arn:aws:sts::123456789012:assumed-role/irsa-role/botocore-session-1 is not authorized to perform: s3:DeleteBucket on resource: "arn:aws:s3:::prod" with an explicit deny in a service control policy`
	plain := `AccessDenied: User: arn:aws:sts::123456789012:assumed-role/irsa-role/botocore-session-1 is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::prod" because no identity-based policy allows the s3:ListBucket action`
	for _, tc := range []struct {
		line string
		note bool
	}{{scp, true}, {plain, false}} {
		s := Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Logs: classify(t, tc.line)}
		f := find(logRules(Cluster{}, s), string(logclass.PermissionMissing))
		if f == nil {
			t.Fatalf("no PermissionMissing from %s", tc.line)
		}
		if got := strings.Contains(f.Fix, "an Allow on the role does not help"); got != tc.note {
			t.Errorf("fix %q: policy note %v, want %v", f.Fix, got, tc.note)
		}
	}
}

func TestPodIdentityDeniedKeepsNodeActionOut(t *testing.T) {
	line := `unable to fetch credentials from EKS Auth: operation error EKS Auth: AssumeRoleForPodIdentity, https response error StatusCode: 403, RequestID: 1, api error AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/eks-node-role/i-0abc123def4567890 is not authorized to perform: eks-auth:AssumeRoleForPodIdentity on resource: arn:aws:eks:us-east-1:123456789012:cluster/prod`
	logs := classify(t, line)
	if logs[0].ID != logclass.PodIdentityDenied {
		t.Fatalf("got %s, want PodIdentityDenied", logs[0].ID)
	}
	if acts := DeniedActions(logs); len(acts) != 0 {
		t.Errorf("DeniedActions = %v: the node role's eks-auth permission must not be allowed on the pod's role", acts)
	}
}
