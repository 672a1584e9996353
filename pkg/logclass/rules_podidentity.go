package logclass

import (
	"strings"
)

// podIdentityHostAt returns the offset of the EKS Pod Identity Agent's
// address in l (169.254.170.23 not followed by a digit, or fd00:ec2::23),
// or -1.
func podIdentityHostAt(l string) int {
	for off := 0; off < len(l); {
		k := strings.Index(l[off:], podIdentityHostV4)
		if k < 0 {
			break
		}
		k += off
		end := k + len(podIdentityHostV4)
		if end == len(l) || l[end] < '0' || l[end] > '9' {
			return k
		}
		off = end
	}
	return strings.Index(l, podIdentityHostV6)
}

// rulePodIdentityEndpoint: lines naming the EKS Pod Identity Agent's
// address: an SDK too old to accept it, or the agent not answering.
func rulePodIdentityEndpoint(_ *Classifier, s, l string) (match, bool) {
	h := podIdentityHostAt(l)
	if h < 0 {
		// aws-config (Rust) refuses the full URI without printing it: a
		// non-loopback HTTP full URI on EKS is the Pod Identity Agent's.
		if strings.Contains(l, "loopback") {
			if i := strings.Index(l, "did not refer to the loopback interface"); i >= 0 && !strings.Contains(l, "http://") {
				return match{id: PodIdentityOldSDK, at: i, conf: confMedium,
					reason: "the SDK (aws-config for Rust) refuses a container credentials URI that is not loopback: it is older than the first release with EKS Pod Identity support"}, true
			}
		}
		return match{}, false
	}
	if m, ok := podIdentityOldSDK(s, l, h); ok {
		return m, true
	}
	return podIdentityUnreachable(s, l, h)
}

// podIdentityOldSDK: an SDK that predates EKS Pod Identity refuses the
// agent's address (at h) as a container credentials host.
func podIdentityOldSDK(s, l string, h int) (match, bool) {
	i := hostRefusedSet.index(l)
	if i < 0 || !containsAny(l, "credential", "container", "metadata", "full_uri", "full uri", "ecs", "endpoint host") {
		return match{}, false
	}
	return match{id: PodIdentityOldSDK, at: min(i, h), conf: confHigh, f: Finding{Resource: s[h : h+hostLen(l, h)]},
		reason: "the SDK refuses the EKS Pod Identity Agent's address as a container credentials host: it is older than the first release with EKS Pod Identity support"}, true
}

func hostLen(l string, h int) int {
	if strings.HasPrefix(l[h:], podIdentityHostV4) {
		return len(podIdentityHostV4)
	}
	return len(podIdentityHostV6)
}

// rulePodIdentityDenied: EKS Auth refused AssumeRoleForPodIdentity, as the
// agent logs it or an SDK relays the agent's answer.
func rulePodIdentityDenied(c *Classifier, s, l string) (match, bool) {
	if i := strings.Index(l, podIdentityDenied); i >= 0 && strings.Contains(l[i:min(len(l), i+len(podIdentityDenied)+12)], "to assume") {
		return match{id: PodIdentityDenied, at: i, conf: confHigh,
			reason: "EKS Auth refused to assume the associated role: its trust policy must allow the service principal pods.eks.amazonaws.com the actions sts:AssumeRole and sts:TagSession"}, true
	}
	w := strings.Index(l, "assumeroleforpodidentity")
	if w < 0 {
		return match{}, false
	}
	if strings.Contains(l, notAuthorized) {
		m, ok := ruleDeniedCaller(c, s, l)
		if ok && strings.EqualFold(m.f.Action, "eks-auth:AssumeRoleForPodIdentity") {
			m.id, m.conf = PodIdentityDenied, confHigh
			// The node role's permission, not one the pod's role needs:
			// keep it out of the actions doctor would allow on the pod's role.
			m.f.Action = ""
			m.reason = "the EKS Pod Identity Agent's node role may not call eks-auth:AssumeRoleForPodIdentity (attach AmazonEKSWorkerNodePolicy or allow that action)"
			return m, true
		}
	}
	if i := indexAny(l, "accessdenied", "statuscode: 403", "status code: 403"); i >= 0 {
		return match{id: PodIdentityDenied, at: min(i, w), conf: confMedium,
			reason: "EKS Auth denied AssumeRoleForPodIdentity for this pod's association"}, true
	}
	return match{}, false
}

// podNetworkErrs are the network errors of container credential providers
// (on top of networkErrs): PHP's cURL codes, Ruby's TCP open, .NET's
// credentials server, JS v3's provider.
var podNetworkErrs = []string{
	"no route to host", "failed to open tcp connection", "curl error 7:", "curl error 28:", "client.timeout exceeded",
	"unable to reach credentials server", "unable to connect", "connection attempt failed", "host is unreachable",
	"retrieve container metadata", "operation timed out",
	"ioexception occurred when connecting", // aws-sdk-java's debug log of a failed credentials endpoint call
}

// podIdentityUnreachable: the agent's endpoint (at h) refused the
// connection or timed out.
func podIdentityUnreachable(s, l string, h int) (match, bool) {
	if !podNetworkErrSet.contains(l) {
		return match{}, false
	}
	// The failed request must be a credentials fetch, not another call on
	// a line that merely lists the address (NO_PROXY, an env dump).
	if !containsAny(l, "credential", "container", "metadata", "/v1/", "ecs") {
		return match{}, false
	}
	at := h
	if i := indexAny(l, "credentialsendpointerror", "failed to load credentials", "error when retrieving credentials",
		"error retrieving credential", "unable to reach credentials server", "unable to connect", "failed to connect",
		"aws::ecscredentials"); i >= 0 && i < h {
		at = i
	}
	return match{id: PodIdentityEndpointUnreachable, at: at, conf: confHigh, f: Finding{Resource: s[h : h+hostLen(l, h)]},
		reason: "the container credentials endpoint of the EKS Pod Identity Agent did not answer: the agent is not running on the node, or a proxy or network policy is in the way (NO_PROXY must list 169.254.170.23)"}, true
}
