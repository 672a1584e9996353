package logclass

import (
	"fmt"
	"strings"
)

// networkErrs are how SDKs and runtimes word a failed connection.
var networkErrs = []string{
	"dial tcp", "i/o timeout", "connection refused", "no such host", "timed out", "connect timeout", "timeouterror",
	"timeout exceeded", "could not connect",
	"unknownhost", "enotfound", "econnrefused", "etimedout", "econnreset", "connection reset", "network is unreachable",
	"unsupported protocol scheme", "unable to execute http request", "send request failed", "tls handshake",
	"dispatch failure", "eai_again", "getaddrinfo", "name resolution", "name or service not known",
	"deadline exceeded", "connecterror", "connect error", "endpointconnectionerror", "failed to connect",
	"could not resolve host", "server misbehaving", "nodename nor servname",
	// TLS interception (a proxy without the STS host in NO_PROXY).
	"x509: certificate signed by unknown authority", "certificate verify failed",
}

var (
	networkErrSet    = newPhraseSet(networkErrs)
	dnsErrSet        = newPhraseSet(dnsErrs)
	podNetworkErrSet = newPhraseSet(networkErrs, podNetworkErrs)
)

// dnsErrs are the subset of networkErrs that mean the host name did not resolve.
var dnsErrs = []string{
	"no such host", "unknownhost", "enotfound", "eai_again", "getaddrinfo", "name resolution",
	"name or service not known", "could not resolve host", "server misbehaving", "nodename nor servname",
}

func ruleRegionOrEndpoint(_ *Classifier, s, l string) (match, bool) {
	if i := indexAny(l, "missingregion", "could not find region configuration", "you must specify a region",
		"noregionerror", "aws region is required", "region is missing", "unable to load region",
		"unable to find a region", "no regionendpoint or serviceurl", "no region was provided",
		"region must be set", "region is required", "failed to resolve service endpoint",
		"could not resolve endpoint", "endpoint resolution failed", "failed to resolve endpoint"); i >= 0 {
		return match{id: RegionOrEndpoint, at: i, conf: confHigh,
			reason: "the SDK has no usable region/endpoint configuration (set AWS_REGION or AWS_STS_REGIONAL_ENDPOINTS=regional)"}, true
	}
	// Endpoint reachability: an *.amazonaws.com host together with a
	// network error. For the STS host (where web identity credentials come
	// from) any network error counts; for other hosts only DNS failures
	// (typically a wrong region in the host name).
	if !strings.Contains(l, "amazonaws.com") {
		return match{}, false
	}
	netErr := networkErrSet.contains(l)
	dnsErr := netErr && (dnsErrSet.contains(l) || strings.Contains(l, "could not connect to the endpoint url"))
	if !netErr && !dnsErr {
		return match{}, false
	}
	for off := 0; off < len(l); {
		k := strings.Index(l[off:], "amazonaws.com")
		if k < 0 {
			break
		}
		k += off
		off = k + len("amazonaws.com")
		hs, he := k, off
		for hs > 0 && hs > k-253 && isHostByte(l[hs-1]) {
			hs--
		}
		if strings.HasPrefix(l[he:], ".cn") {
			he += 3
		}
		host := l[hs:he]
		if strings.HasPrefix(l[he:], "/serviceaccount") || host == "amazonaws.com" {
			continue
		}
		isSTS := strings.HasPrefix(host, "sts.") || strings.HasPrefix(host, "sts-")
		switch {
		case isSTS && netErr:
			return match{id: RegionOrEndpoint, at: requestStart(l, hs), conf: confHigh, f: Finding{Resource: s[hs:he]},
				reason: fmt.Sprintf("the STS endpoint %s could not be reached, so web identity credentials could not be fetched (check DNS/egress or use the regional STS endpoint)", s[hs:he])}, true
		case !isSTS && dnsErr:
			return match{id: RegionOrEndpoint, at: requestStart(l, hs), conf: confMedium, f: Finding{Resource: s[hs:he]},
				reason: fmt.Sprintf("the AWS endpoint %s could not be resolved or reached (check the configured region and DNS)", s[hs:he])}, true
		}
	}
	return match{}, false
}

// requestStart finds where the failed request is described before the host
// at hs: go v1's "RequestError: send request failed", else the URL or the
// HTTP method before it ("Post \"https://sts...").
func requestStart(l string, hs int) int {
	w := max(0, hs-200)
	if k := strings.LastIndex(l[w:hs], "requesterror"); k >= 0 {
		return w + k
	}
	at := hs
	if k := strings.LastIndexByte(l[max(0, hs-20):hs], ' '); k >= 0 {
		at = max(0, hs-20) + k + 1
		if p := strings.LastIndexByte(l[w:at-1], ' '); p >= 0 && at-1-(w+p) <= 10 {
			at = w + p + 1
		}
	}
	return at
}

func isHostByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-'
}

func ruleNoCredentials(_ *Classifier, s, l string) (match, bool) {
	if i := noCredentialsStrongSet.index(l); i >= 0 {
		if otherCredentials(l) {
			return match{}, false
		}
		m := match{id: NoCredentials, at: i, conf: confHigh,
			reason: "no provider in the SDK credential chain produced credentials: the IRSA variables (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE) are probably not injected and no instance role is reachable"}
		// The chain names why web identity was skipped: say that instead.
		switch {
		case containsAny(l, "must be on the class path") && containsAny(l, "sts", "webidentity", "web identity"):
			m.at = indexAny(l, "to use web identity tokens", "to use assume role profiles", "must be on the class path")
			m.reason = "the SDK skipped web identity because its STS module is not on the class path (add software.amazon.awssdk:sts, or aws-java-sdk-sts for SDK v1)"
		case strings.Contains(l, "awssdk.securitytoken could not be found"):
			m.at = strings.Index(l, "awssdk.securitytoken")
			m.reason = "the .NET SDK cannot use web identity because the AWSSDK.SecurityToken package is not deployed with the application"
		case strings.Contains(l, "or the javaproperty aws.webidentitytokenfile must be set"):
			m.reason = "AWS_WEB_IDENTITY_TOKEN_FILE is not set in the container: the pod was not injected with the IRSA variables (ServiceAccount annotation missing or pod older than it)"
		case strings.Contains(l, "for use in imdsv2"):
			m.reason = "no web identity variables, and the instance metadata service gave no IMDSv2 token (hop limit, Windows node or IMDS blocked): no credentials at all"
		}
		return m, true
	}
	if i := noCredentialsWeakSet.index(l); i >= 0 {
		if otherCredentials(l) {
			return match{}, false
		}
		return match{id: NoCredentials, at: i, conf: confMedium,
			reason: "the SDK failed to obtain credentials and the line names no more specific cause"}, true
	}
	if i := strings.Index(l, `the "path" argument must be of type string`); i >= 0 && strings.Contains(l, "received undefined") {
		return match{id: NoCredentials, at: i, conf: confLow,
			reason: "an undefined file path usually means the JS SDK's web identity provider ran without AWS_WEB_IDENTITY_TOKEN_FILE set"}, true
	}
	return match{}, false
}

// genericCredentialPhrases are credential-chain phrases that other
// software words the same way (docker credential helpers, password stores,
// database clients).
var genericCredentialPhrases = []string{"unable to locate credentials", "failed to retrieve credentials",
	"unable to load credentials from any", "credentialsexception", "credentialserror:"}

// otherCredentials reports whether a generic "no credentials" phrase is
// about something else: a registry, a password store or a database, with
// no AWS SDK in sight.
func otherCredentials(l string) bool {
	if !containsAny(l, genericCredentialPhrases...) {
		return false
	}
	if !containsAny(l, "registry", "docker", "keychain", "database", "password", "git", "helm", "vault", "kubeconfig") {
		return false
	}
	return !containsAny(l, "botocore", "boto3", "aws-sdk", "aws sdk", "awssdk", "aws_sdk", "sts", "imds", "webidentity",
		"web identity", "169.254.", "ec2", "iam", "nocredentialproviders", "credential provider", "credentials provider")
}

// ruleAssumeWrapper: the .NET and PHP wrappers of a failed web identity
// exchange, when the STS answer is not on the line (it follows in the stack
// trace). A trust policy that does not admit the token is the usual cause.
func ruleAssumeWrapper(_ *Classifier, s, l string) (match, bool) {
	i := assumeWrapperSet.index(l)
	if i < 0 {
		return match{}, false
	}
	return match{id: TrustRejected, at: i, conf: confLow,
		reason: "the SDK's call to STS to assume the role failed (the STS answer is on a following line); most often the role's trust policy does not admit the service account token"}, true
}

// ruleEndpointGarbled: the web identity exchange got an answer the STS
// client could not parse: the request did not reach STS.
func ruleEndpointGarbled(_ *Classifier, s, l string) (match, bool) {
	if strings.Contains(l, "not authorized to perform") {
		return match{}, false
	}
	i := responseGarbledSet.index(l)
	if i < 0 {
		// STS words its refusal of AssumeRoleWithWebIdentity "Not authorized
		// to perform sts:AssumeRoleWithWebIdentity"; S3-style answers (an
		// S3 or MinIO endpoint answered the STS call) mean the request went
		// elsewhere.
		if j := nonSTSAnswerSet.index(l); j >= 0 && containsAny(l, "assumerolewithwebidentity", "webidentityerr") {
			return match{id: RegionOrEndpoint, at: j, conf: confMedium,
				reason: "the web identity exchange was answered by an endpoint that is not STS (an S3-style error): an endpoint override such as AWS_ENDPOINT_URL sends the STS call to another service"}, true
		}
		return match{}, false
	}
	return match{id: RegionOrEndpoint, at: i, conf: confMedium,
		reason: "the web identity exchange got a response that is not from STS: an endpoint override (AWS_ENDPOINT_URL, a service endpoint or a proxy) sends the STS call elsewhere; use the regional STS endpoint"}, true
}

// ruleWebIdentityUnreachable: the web identity exchange failed on the
// network to a host that is not an AWS one (an endpoint override).
func ruleWebIdentityUnreachable(_ *Classifier, s, l string) (match, bool) {
	i := indexAny(l, "requesterror: send request failed", "request send failed")
	if i < 0 || !networkErrSet.contains(l) {
		return match{}, false
	}
	return match{id: RegionOrEndpoint, at: i, conf: confMedium,
		reason: "the web identity exchange could not reach its STS endpoint (an endpoint override or DNS/egress problem); the credentials chain failed because of it"}, true
}

// hasNetNamespace reports whether s names a .NET SDK type such as
// Amazon.S3.Model.AmazonS3Exception (Java packages are lowercase:
// com.amazonaws.services.s3).
func hasNetNamespace(s string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], "Amazon.")
		if i < 0 {
			return false
		}
		i += off + len("Amazon.")
		j := i
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		if j > i && s[i] >= 'A' && s[i] <= 'Z' && j < len(s) && s[j] == '.' {
			return true
		}
		off = i
	}
}
