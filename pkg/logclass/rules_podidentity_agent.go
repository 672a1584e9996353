package logclass

import "strings"

// EKS Pod Identity failures named by the agent's own log (aws/eks-pod-identity-agent), by the network between the
// pod and the agent, by the pod's token as the SDKs read it, and by the EKS association APIs. The phrases come from
// the files named in sdkMessages.

// podTokenEmptyPhrases: the agent got no usable token (an SDK or proxy without AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
// support, an empty file), or the SDK refused the file's content.
var podTokenEmptyPhrases = []string{
	"service account token cannot be empty",                // eks-pod-identity-agent internal/validation/request.go
	"service account token cannot be parsed",               // eks-pod-identity-agent internal/validation/request.go
	"token file is empty",                                  // aws-sdk-php EcsCredentialProvider
	"auth token could not be used as an http header value", // aws-config (Rust) ecs.rs InvalidAuthToken
	"auth token value is not a legal header value",         // botocore credentials.py ContainerProvider
	"authorization token contains invalid",                 // aws-sdk-go-v2 credentials/endpointcreds
	"invalidtokenexception",                                // EKS Auth AssumeRoleForPodIdentity
}

// podTokenMissingPhrases: the SDK could not read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE.
var podTokenMissingPhrases = []string{
	"failed to read authorization token", // aws-sdk-go(-v2) endpointcreds, aws-sdk-java-v2, aws-sdk-php, aws-sdk-ruby
	"tokenfilereaderror",                 // aws-sdk-ruby ECSCredentials::TokenFileReadError
}

// podTokenPath is the file the EKS Pod Identity webhook mounts (pods.eks.amazonaws.com/serviceaccount/...).
const podTokenPath = "eks-pod-identity-token"

// fileErrs are how runtimes word a file that is absent or unreadable.
var fileErrs = []string{"no such file", "enoent", "errno 2", "nosuchfileexception", "filenotfound", "permission denied",
	"errno 13", "eacces", "accessdeniedexception", "is a directory", "os error 2", "os error 13", "cannot find the file",
	"could not find file", "unauthorizedaccessexception", "access to the path"}

var (
	podTokenEmptySet   = newPhraseSet(podTokenEmptyPhrases)
	podTokenMissingSet = newPhraseSet(podTokenMissingPhrases)
	fileErrSet         = newPhraseSet(fileErrs)
)

// podIdentityContext: words that place a line on the container credentials path of EKS Pod Identity.
func podIdentityContext(l string) bool {
	return podIdentityHostAt(l) >= 0 || containsAny(l, "credential", "container metadata", "container-role",
		"eks auth", "assumeroleforpodidentity", "pods.eks.amazonaws.com", "ecscredentials")
}

// agentRoutine: the agent's info-level lines about its cache (a pod token that expired is dropped and fetched again,
// a recoverable error keeps the old credentials): expected, logged on every rotation.
func agentRoutine(l string) bool {
	return containsAny(l, "removing credentials from cache", "error is recoverable", "will try to keep existing creds")
}

// rulePodIdentityToken: the pod's Pod Identity token, missing, empty, malformed or expired.
func rulePodIdentityToken(_ *Classifier, s, l string) (match, bool) {
	if agentRoutine(l) {
		return match{}, true
	}
	if i := podTokenExpiredAt(l); i >= 0 {
		return match{id: PodIdentityTokenExpired, at: i, conf: confHigh,
			reason: "the Pod Identity token the pod sent has expired: the kubelet stopped refreshing the projected token (pod on a node that lost the API server, or a token copied out of the volume)"}, true
	}
	if i := podTokenEmptySet.index(l); i >= 0 && podIdentityContext(l) && !webIdentity(l) {
		return match{id: PodIdentityTokenEmpty, at: i, conf: confHigh,
			reason: "the EKS Pod Identity Agent got no valid token: the client does not send AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE's content (SDK, proxy or tool without Pod Identity token support), or the file is empty or malformed"}, true
	}
	i := podTokenMissingSet.index(l)
	if i < 0 {
		p := strings.Index(l, podTokenPath)
		if p < 0 || !fileErrSet.contains(l) {
			return match{}, false
		}
		i = p
		if j := strings.LastIndexAny(l[:p], " '\"`("); j >= 0 {
			i = j + 1
		}
	}
	return match{id: PodIdentityTokenMissing, at: i, conf: confHigh,
		reason: "the SDK cannot read the Pod Identity token file (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE): the projected eks-pod-identity-token volume is missing or not readable by the container's user"}, true
}

// podTokenExpiredAt: the offset of an expired Pod Identity token, as the agent's validation or EKS Auth word it, or -1.
func podTokenExpiredAt(l string) int {
	if !strings.Contains(l, "expired") {
		return -1
	}
	if i := strings.Index(l, "failed basic claim validations"); i >= 0 && strings.Contains(l, "token is expired") {
		return i // eks-pod-identity-agent internal/validation/request.go (golang-jwt "token is expired")
	}
	if i := strings.Index(l, "expiredtokenexception"); i >= 0 && containsAny(l, "assumeroleforpodidentity", "eks auth",
		"container metadata", "container-role", "credentialsendpoint", "ecscredentials", "credential from ecs") {
		return i
	}
	return -1
}

// rulePodIdentityAgent: the agent not serving, the agent unable to reach EKS Auth, a network policy dropping the
// pod's packets to the agent, and the association APIs refusing an association.
func rulePodIdentityAgent(_ *Classifier, s, l string) (match, bool) {
	if h := podIdentityHostAt(l); h >= 0 {
		if m, ok := agentNotListening(l); ok {
			return m, true
		}
		if i := indexAny(l, "policy denied", "verdict deny", "verdict: deny", `verdict":"deny`, "denied by policy",
			"policy-verdict:none", "policy_denied"); i >= 0 {
			return match{id: PodIdentityBlockedByNetworkPolicy, at: min(i, h), conf: confHigh, f: Finding{Resource: s[h : h+hostLen(l, h)]},
				reason: "a network policy drops the pod's traffic to the EKS Pod Identity Agent: allow egress to 169.254.170.23/32 (and fd00:ec2::23/128) on TCP port 80"}, true
		}
	}
	if w := strings.Index(l, "assumeroleforpodidentity"); w >= 0 {
		if agentRoutine(l) {
			return match{}, true
		}
		if i := indexAny(l, "context canceled", "context deadline exceeded", "i/o timeout", "request canceled",
			"tls handshake timeout", "no such host", "connection refused", "connection reset", "network is unreachable",
			"client.timeout exceeded", "exceeded maximum number of attempts"); i >= 0 {
			return match{id: PodIdentityEKSAuthUnreachable, at: min(w, i), conf: confHigh,
				reason: "the EKS Pod Identity Agent's call to EKS Auth (eks-auth.REGION.api.aws) was canceled or timed out: the node cannot reach EKS Auth in time (no route, proxy, VPC endpoint or DNS), or the client gave up first"}, true
		}
		if i := strings.Index(l, "resourcenotfoundexception"); i >= 0 {
			return match{id: PodIdentityAssociationRefused, at: i, conf: confMedium,
				reason: "EKS Auth found no Pod Identity association for this pod's service account (deleted or changed after the pod started)"}, true
		}
	}
	return associationRefused(l)
}

// agentNotListening: the agent's own log of a failed start or failed self probe on its address (on the line).
func agentNotListening(l string) (match, bool) {
	i := indexAny(l, "unable to start server", "failed probe", "internalservererror: get")
	if i < 0 {
		return match{}, false
	}
	if i == strings.Index(l, "unable to start server") && !containsAny(l, "listen tcp", "bind") {
		return match{}, false
	}
	return match{id: PodIdentityAgentNotListening, at: i, conf: confHigh,
		reason: "the EKS Pod Identity Agent does not serve on its link-local address: it failed to bind it (another hostNetwork pod on port 80, the address not configured by its init container) or its own probe of it failed"}, true
}

// associationRefused: EKS refused to create or use a Pod Identity association (the association APIs, or an add-on's
// pod identity configuration).
func associationRefused(l string) (match, bool) {
	if !strings.Contains(l, "podidentityassociation") && !strings.Contains(l, "pod identity") &&
		!strings.Contains(l, "pod_identity_association") {
		return match{}, false
	}
	if strings.Contains(l, notAuthorized) {
		return match{}, false // the caller's own permission: ruleDeniedCaller
	}
	i := indexAny(l, "invalidparameterexception", "resourceinuseexception", "resourcelimitexceededexception",
		"invalidrequestexception")
	if i < 0 {
		return match{}, false
	}
	if !containsAny(l, "createpodidentityassociation", "updatepodidentityassociation", "pod identity association",
		"pod_identity_association", "pod identity configuration", "pod identity feature", "association already exists") {
		return match{}, false
	}
	return match{id: PodIdentityAssociationRefused, at: i, conf: confHigh,
		reason: "EKS refused the Pod Identity association: the role's trust must allow pods.eks.amazonaws.com sts:AssumeRole and sts:TagSession, one association per service account, and the add-on must support Pod Identity"}, true
}

// webIdentity: the line is about IRSA's web identity token, not the Pod Identity token.
func webIdentity(l string) bool {
	return containsAny(l, "webidentity", "web identity", tokenPath)
}
