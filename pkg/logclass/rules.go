package logclass

import (
	"fmt"
	"strings"
	"sync"
)

// keywords is the cheap prefilter: a line is looked at by the rules only if
// it contains one of these case-sensitive substrings (ClassifyLine and Scan
// apply it the same way). Each is a fragment of an SDK's wording, at least
// minKeywordLen bytes long, chosen case-stable where it can be ("ot
// authorized" matches "Not authorized" and "not authorized"). A rule's
// wording without any keyword is only seen when another keyword is on the
// line; TestKeywordsCoverTestLines checks every test line passes.
var keywords = []string{
	// AccessDenied wording of all SDKs; Not authorized to perform sts:AssumeRoleWithWebIdentity.
	"ot authorized",
	// eks.amazonaws.com/serviceaccount/token, STS hosts and DNS lookups of
	// AWS hosts; see keywordAt (ordinary S3/API URLs do not count).
	awsKeyword,
	// DNS failures (Node.js, Java, curl) when the host is not shown as STS.
	"ENOTFOUND", "UnknownHost", "EAI_AGAIN", "Could not resolve host",
	// WebIdentityErr, AssumeRoleWithWebIdentity, web identity token file.
	"WebIdentity", "Web identity", "Web Identity", "web identity", "identity token file",
	// No OpenIDConnect provider found; OpenIDConnect provider's HTTPS certificate ... thumbprint.
	"OpenIDConnect",
	"Incorrect token audience", "incorrect token audience",
	// ExpiredToken(Exception), Token expired, is expired, has expired.
	"Expired", " expired",
	// Request ARN is invalid; roleArn constraints; roleArn and roleSessionName.
	"ARN is invalid", "roleArn", "RoleArn",
	// Credential chains of every SDK: NoCredentialProviders, NoCredentialsError,
	// CredentialsProviderError, MissingCredentialsError, CredentialsNotLoaded,
	// Aws\Exception\CredentialsException, Unable to load credentials ...
	"Credential", "Unable to locate credentials", "nable to load", "Unable to get IAM", "Unable to locate specified",
	"Could not load credentials", "AWS_SDK_LOAD_CONFIG", "EC2 IMDS", "unexpected credentials error", "lacked valid",
	"retrieve credentials", "retrieving credentials", "cached credentials", "resolve AWS credentials",
	"while loading credentials", "credential provider", "credentials provider", "provided credentials",
	"request without credentials", "security credentials", "static credentials",
	// Node.js fs error when the JS SDK has no token file path.
	"Received undefined",
	// Region configuration.
	"MissingRegion", "NoRegionError", "Region is missing", "RegionEndpoint", "specify a region", "AWS region",
	"region is required", "find a region", "region was provided", "region must be set",
	// Endpoints: botocore's EndpointConnectionError, endpoint resolution.
	"ndpoint URL", "resolve service endpoint", "resolve endpoint",
	// EKS Pod Identity: the agent's addresses, EKS Auth's refusal.
	podIdentityHostV4, podIdentityHostV6, "AssumeRoleForPodIdentity", "does not have permission",
	// Ruby's Aws::STS::Errors::InvalidIdentityToken and others without "WebIdentity".
	"InvalidIdentityToken",
	// Java: the STS module missing (web identity skipped); Java v2's env var unset.
	"must be on the class path", "webIdentityTokenFile",
	// .NET: AWSSDK.SecurityToken missing, IMDSv2 token, credentials server, AssumeRole wrapper.
	"SecurityToken could not", "for use in IMDS", "reach credentials server", "Error calling AssumeRole",
	// Terraform (aws-sdk-go-base), rusoto, Fluent Bit, JS v2/v3 IMDS, PHP ECS, C++.
	"valid credential sources", "find AWS credentials", "credentials for AWS Profile", "EC2 Metadata",
	"instance metadata service", "credential from ECS", "open token file", "EC2RoleRequest",
	// Java v1/v2 IMDS and container providers ("Failed to load credentials from ...", "Failed to retrieve IMDS token").
	"load credentials", "IMDS token",
	// aws-config (Rust): a container credentials URI refused, host not printed.
	"refer to the loopback",
}

const awsKeyword = "amazonaws.com"

// hasKeyword reports whether line contains one of the prefilter keywords
// (at a place where it counts, see keywordAt).
func hasKeyword(line string) bool { return linePrefilter().hasKeyword(line) }

// linePrefilter is the prefilter used for single lines: its words are
// picked without a sample of the log.
var linePrefilter = sync.OnceValue(func() *prefilter { return newPrefilter(nil) })

// keywordAt reports whether keyword kw occurs in line at offset st and
// counts there: "amazonaws.com" only in the web identity token path
// (eks.amazonaws.com/serviceaccount), in an STS host name (sts.REGION.,
// sts-fips.) or in a DNS lookup ("lookup s3.REGION.amazonaws.com"), so that
// ordinary S3 or API URLs are not looked at.
func keywordAt[T ~string | ~[]byte](line T, st int, kw string) bool {
	if st < 0 || st+len(kw) > len(line) || string(line[st:st+len(kw)]) != kw {
		return false
	}
	if kw != awsKeyword {
		return true
	}
	if rest := line[st+len(kw):]; len(rest) >= 15 && string(rest[:15]) == "/serviceaccount" {
		return true
	}
	hs := st
	for hs > 0 && hs > st-128 && isHostByte(lowerByte(line[hs-1])) {
		hs--
	}
	if hs >= 7 && string(line[hs-7:hs]) == "lookup " {
		return true
	}
	if st-hs < 4 {
		return false
	}
	label := string(line[hs : hs+4])
	return label == "sts." || label == "sts-" || label == "STS." || label == "Sts."
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// match is what a rule found: the id, where in the normalised text the
// evidence starts (for the excerpt), confidence, reason and fields.
type match struct {
	id     ID
	at     int
	conf   string
	reason string
	f      Finding
}

// rule inspects normalised text s and its ASCII-lowercased copy l (same
// byte offsets).
type rule func(c *Classifier, s, l string) (match, bool)

// rules in priority order: the most specific cause wins.
// A rule may return a match with an empty id: the line is a known
// look-alike and no finding may be claimed for it.
var rules = []rule{
	ruleThumbprint,
	ruleNoOIDCProvider,
	ruleBadAudience,
	rulePodIdentityDenied,
	rulePodIdentityEndpoint,
	ruleTokenExpired,
	ruleTokenUnreadable,
	ruleDeniedCaller,
	ruleEndpointGarbled,
	ruleTrustRejected,
	ruleInvalidRoleARN,
	ruleRegionOrEndpoint,
	ruleWebIdentityUnreachable,
	ruleNoCredentials,
	ruleAssumeWrapper,
}

// indexAny returns the offset of the first of subs found in l, or -1.
func indexAny(l string, subs ...string) int {
	best := -1
	for _, sub := range subs {
		if i := strings.Index(l, sub); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}

func containsAny(l string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func ruleThumbprint(_ *Classifier, s, l string) (match, bool) {
	i := strings.Index(l, "thumbprint")
	if i < 0 || !containsAny(l, "openidconnect", "invalididentitytoken", "webidentity") {
		return match{}, false
	}
	if !containsAny(l, "doesn't match", "does not match", "not match", "mismatch") {
		return match{}, false
	}
	at := i
	if j := strings.Index(l, "openidconnect provider"); j >= 0 && j < i {
		at = j
	}
	return match{id: Thumbprint, at: at, conf: confHigh,
		reason: "STS rejected the token because the OIDC provider's TLS certificate does not match the thumbprint configured on the IAM OIDC provider"}, true
}

func ruleNoOIDCProvider(_ *Classifier, s, l string) (match, bool) {
	i := indexAny(l, "no openidconnect provider found", "openidconnect provider not found")
	if i < 0 {
		return match{}, false
	}
	var f Finding
	const forIssuer = "provider found in your account for"
	if k := strings.Index(l[i:], forIssuer); k >= 0 {
		rest := s[i+k+len(forIssuer):]
		rest = rest[len(rest)-len(strings.TrimLeft(rest, " \t\n")):]
		if e := strings.IndexAny(rest, " \t\n\"'"); e >= 0 {
			rest = rest[:e]
		}
		f.Resource = strings.TrimRight(rest, ".,;)")
	}
	reason := "STS found no IAM OIDC identity provider for the cluster's issuer in this account"
	if f.Resource != "" && !strings.Contains(f.Resource, "**") {
		reason = fmt.Sprintf("STS found no IAM OIDC identity provider for issuer %s in this account", f.Resource)
	}
	return match{id: NoOIDCProvider, at: i, conf: confHigh, reason: reason, f: f}, true
}

func ruleBadAudience(_ *Classifier, s, l string) (match, bool) {
	if !strings.Contains(l, "audience") {
		// STS names the claim when the token has no audience at all
		// (Ruby: Aws::STS::Errors::InvalidIdentityToken: Missing a required claim: aud).
		if !strings.Contains(l, "claim") {
			return match{}, false
		}
		if i := indexAny(l, "required claim: aud", "required claim 'aud'", "missing claim: aud"); i >= 0 &&
			containsAny(l, "invalididentitytoken", "webidentity", "web identity") {
			return match{id: BadAudience, at: i, conf: confHigh,
				reason: "STS rejected the web identity token because it carries no aud claim; the projected token must have audience sts.amazonaws.com"}, true
		}
		return match{}, false
	}
	i := strings.Index(l, "incorrect token audience")
	if i < 0 {
		if !strings.Contains(l, "invalididentitytoken") {
			return match{}, false
		}
		if i = indexAny(l, "audience mismatch", "invalid audience", "audience is not valid"); i < 0 {
			return match{}, false
		}
	}
	return match{id: BadAudience, at: i, conf: confHigh,
		reason: "STS rejected the web identity token's audience; the IAM OIDC provider expects sts.amazonaws.com"}, true
}

func ruleTokenExpired(_ *Classifier, s, l string) (match, bool) {
	if !strings.Contains(l, "expired") {
		return match{}, false
	}
	// The EKS Pod Identity Agent drops a cached credential whose pod token
	// expired and fetches a new one: expected, logged on every rotation.
	// A match with no id: a look-alike, nothing may be claimed.
	if strings.Contains(l, "removing credentials from cache") {
		return match{}, true
	}
	i := strings.Index(l, "expiredtoken")
	if i < 0 {
		i = indexAny(l, "token expired", "token has expired", "token is expired", "token was expired",
			"token included in the request is expired", "token that was passed is expired", "expired token")
		if i < 0 {
			return match{}, false
		}
		if !containsAny(l, "security token", "session token", "web identity", "webidentity", "identitytoken",
			"identity token", "assumerolewith", "amazonaws", "awssdk", "aws-sdk", "aws sdk", "aws_sdk", "botocore", "credential") {
			return match{}, false
		}
	}
	// AWS SSO (IAM Identity Center) tokens on a workstation are not IRSA.
	if containsAny(l, "sso token", "from sso", "sso session", "sso_", "ssooidc", "sso oidc") {
		return match{}, false
	}
	conf, reason := confMedium, "the temporary security credentials the SDK signed with have expired and were not refreshed from the projected token"
	if containsAny(l, "assumerolewithwebidentity", "web identity", "webidentity", "token expired: current date") {
		conf, reason = confHigh, "STS refused AssumeRoleWithWebIdentity because the projected service account token has expired"
	}
	return match{id: TokenExpired, at: i, conf: conf, reason: reason}, true
}

// tokenPath is the default AWS_WEB_IDENTITY_TOKEN_FILE the EKS pod identity
// webhook injects.
const tokenPath = "eks.amazonaws.com/serviceaccount/token"

func ruleTokenUnreadable(_ *Classifier, s, l string) (match, bool) {
	if !containsAny(l, "token", "unable to read file at", "jwt") {
		return match{}, false
	}
	i := tokenUnreadableSet.index(l)
	if i < 0 {
		p := strings.Index(l, tokenPath)
		if p < 0 {
			return match{}, false
		}
		if !containsAny(l, "permission denied", "errno 13", "eacces", "accessdeniedexception", "no such file",
			"errno 2", "enoent", "nosuchfileexception", "not found", "does not exist", "unable to read",
			"could not read", "cannot read", "failed to read", "is a directory", "error reading", "unable to load",
			"failed to load", "filenotfound") {
			return match{}, false
		}
		i = p
		if j := strings.LastIndexAny(l[:p], " '\"`("); j >= 0 {
			i = j + 1
		}
		if e := indexAny(l, "permission denied", "errno", "eacces", "enoent", "accessdeniedexception",
			"nosuchfileexception", "filenotfound", "no such file", "unable to", "could not", "cannot",
			"failed to", "error reading"); e >= 0 && e < i && i-e < 120 {
			i = e
		}
	}
	return match{id: TokenUnreadable, at: i, conf: confHigh,
		reason: "the SDK could not read the projected web identity token file (check the pod's fsGroup/runAsUser and the token volume mount)"}, true
}

func ruleTrustRejected(_ *Classifier, s, l string) (match, bool) {
	if !strings.Contains(l, "assumerolewithwebidentity") {
		return match{}, false
	}
	i := indexAny(l, "not authorized to perform sts:assumerolewithwebidentity",
		"not authorized to perform: sts:assumerolewithwebidentity")
	conf := confHigh
	if i < 0 {
		w := strings.Index(l, "assumerolewithwebidentity")
		if w < 0 || !containsAny(l, "accessdenied", "statuscode: 403", "status code: 403", "status code 403") {
			return match{}, false
		}
		i, conf = w, confMedium
		if j := strings.Index(l, "accessdenied"); j >= 0 {
			i = j
		}
	}
	return match{id: TrustRejected, at: i, conf: conf,
		reason: "STS refused AssumeRoleWithWebIdentity: the role's trust policy does not accept this service account's token (check the OIDC provider ARN and the sub/aud conditions)"}, true
}

func ruleInvalidRoleARN(_ *Classifier, s, l string) (match, bool) {
	if !containsAny(l, "arn is invalid", "rolearn", "validationerror") {
		return match{}, false
	}
	i := strings.Index(l, "request arn is invalid")
	if i < 0 {
		if c := strings.Index(l, "failed to satisfy constraint"); c >= 0 && strings.Contains(l, "rolearn") {
			i = c
			if j := strings.Index(l, "validation error"); j >= 0 && j < c {
				i = j
			}
		}
	}
	if i < 0 {
		if v := strings.Index(l, "validationerror"); v >= 0 && containsAny(l, "webidentity", "rolearn", "role arn", "assumerole") {
			i = v
		}
	}
	if i < 0 {
		// PHP validates the call before sending it: "Found 1 error while
		// validating the input provided for the AssumeRoleWithWebIdentity
		// operation: [RoleArn] is missing".
		if v := strings.Index(l, "error while validating the input"); v >= 0 && strings.Contains(l, "[rolearn]") {
			i = v
		}
	}
	if i < 0 {
		return match{}, false
	}
	return match{id: InvalidRoleARN, at: i, conf: confHigh,
		reason: "STS rejected the role ARN (check the eks.amazonaws.com/role-arn annotation / AWS_ROLE_ARN for typos, whitespace or a missing account)"}, true
}

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
	networkErrSet     = newPhraseSet(networkErrs)
	dnsErrSet         = newPhraseSet(dnsErrs)
	podNetworkErrSet  = newPhraseSet(networkErrs, podNetworkErrs)
	noCredentialsGate = newPhraseSet([]string{"credential", "imds", "received undefined", "rolesessionname",
		"class path", "securitytoken", "instance metadata", "ec2 metadata", "token file", "webidentitytokenfile",
		"ec2rolerequest"})
)

// dnsErrs are the subset of networkErrs that mean the host name did not resolve.
var dnsErrs = []string{
	"no such host", "unknownhost", "enotfound", "eai_again", "getaddrinfo", "name resolution",
	"name or service not known", "could not resolve host", "server misbehaving", "nodename nor servname",
}

func ruleRegionOrEndpoint(_ *Classifier, s, l string) (match, bool) {
	if !containsAny(l, "region", "endpoint", "amazonaws.com") {
		return match{}, false
	}
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
	if !noCredentialsGate.contains(l) {
		return match{}, false
	}
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

// ruleEndpointGarbled: the web identity exchange got an answer the STS
// client could not parse: the request did not reach STS.
func ruleEndpointGarbled(_ *Classifier, s, l string) (match, bool) {
	if !strings.Contains(l, "identity") || !containsAny(l, "webidentity", "web identity") {
		return match{}, false
	}
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
	if !strings.Contains(l, "identity") || !containsAny(l, "webidentityerr", "assumerolewithwebidentity") {
		return match{}, false
	}
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

// sdkWords are the case-sensitive words detectSDK looks for, found in one
// pass over the line (sdkWordSet); detectSDK's switch decides in order.
var sdkWords = []string{
	"software.amazon.awssdk", ".awssdk.services.", "awssdk.core.exception", "(Service: ", ", Status Code: ",
	"com.amazonaws.", "; Status Code: ", "botocore", "boto3", "aws-cli", "A client error (", "upload failed: ",
	"download failed: ", "An error occurred (", ") when calling the ", "Amazon.Runtime", "Amazon.SecurityToken",
	"AWSSDK.", "Aws::", `Aws\`, "(client): ", "(server): ", "AWS HTTP error", `Error executing "`, "aws_sdk_",
	"aws_config", "aws_smithy", "aws-smithy", "dispatch failure", "DispatchFailure", "CredentialsNotLoaded",
	"an error occurred while loading credentials", "the credential provider was not enabled", "@aws-sdk/",
	"@smithy/", "CredentialsProviderError", "deserializeAws_", "$metadata", "$fault", "aws-sdk/lib",
	"aws-sdk/clients", "Missing credentials in config", "CredentialsError", "Could not load credentials from any providers",
	`The "path" argument`, "operation error ", "https response error StatusCode", "api error ",
	"get identity: get credentials", "failed to refresh cached credentials", "no EC2 IMDS role found",
	"failed to resolve service endpoint", "exceeded maximum number of attempts", "status code: ", "request id: ",
	"NoCredentialProviders", "WebIdentityErr", "MissingRegion", "RequestError: send request failed",
	"CredentialsChainVerboseErrors", "EC2RoleRequestError",
	// Tools and SDKs added with the SDK message table.
	"rusoto", "aws-sdk-cpp", "aws-cpp-sdk", "Aws::Auth", "Aws::Client", "AWSClient [", "CredentialsProvider [",
	"Terraform AWS Provider", "terraform-provider-aws", "org.apache.hadoop.fs.s3a", "[aws_credentials]", "flb_aws",
	"from EKS Auth", "EKS Auth to fetch", "CredentialsError { message", "'sts' service module", "javaproperty aws.",
	"aws-java-sdk-sts module", "Ignoring, HTTP credential provider", "AWS.RemoteCredentials", "ECSCredentialsProviderFailure",
	"Can only retrieve metadata from", "from container-role", " ---> System.", " ---> Amazon.", "contains an unsupported host",
	"ProviderError: ",
}

var (
	sdkWordSet   = newPhraseSet(sdkWords) // matched as written: case-sensitive
	sdkWordIndex = func() map[string]int {
		m := map[string]int{}
		for i, w := range sdkWords {
			m[w] = i
		}
		return m
	}()
)

// maxSDKWords bounds len(sdkWords) (TestSDKWords checks it).
const maxSDKWords = 128

// detectSDK names the AWS SDK or tool visible in s, or "".
func detectSDK(s string) string {
	var seen [maxSDKWords]bool
	sdkWordSet.mark(s, seen[:])
	has := func(subs ...string) bool {
		for _, w := range subs {
			if seen[sdkWordIndex[w]] {
				return true
			}
		}
		return false
	}
	switch {
	case has("from EKS Auth", "EKS Auth to fetch"):
		return "eks-pod-identity-agent"
	case has("Terraform AWS Provider", "terraform-provider-aws"):
		return "terraform-provider-aws"
	case has("org.apache.hadoop.fs.s3a"):
		return "hadoop-s3a"
	case has("[aws_credentials]", "flb_aws"):
		return "fluent-bit"
	case has("rusoto", "CredentialsError { message"):
		return "rusoto"
	case has("aws-sdk-cpp", "aws-cpp-sdk", "Aws::Auth", "Aws::Client", "AWSClient [") ||
		has("CredentialsProvider [") && !has("Aws::"):
		return "aws-sdk-cpp"
	case has("software.amazon.awssdk", ".awssdk.services.", "awssdk.core.exception", "'sts' service module", "javaproperty aws."),
		has("(Service: ") && has(", Status Code: "):
		return "aws-sdk-java-v2"
	case has("com.amazonaws.", "aws-java-sdk-sts module"), has("(Service: ") && has("; Status Code: "):
		return "aws-sdk-java"
	case has("botocore", "boto3", "Can only retrieve metadata from", "from container-role"):
		return "boto3"
	case has("aws-cli", "A client error (", "upload failed: ", "download failed: "), strings.HasPrefix(s, "fatal error: "):
		return "aws-cli"
	case has("An error occurred (") && has(") when calling the "):
		return "boto3"
	case has("Amazon.Runtime", "Amazon.SecurityToken", "AWSSDK.", " ---> System.", " ---> Amazon."), hasNetNamespace(s):
		return "aws-sdk-net"
	case has("Aws::"):
		return "aws-sdk-ruby"
	case has(`Aws\`, "(client): ", "(server): ", "AWS HTTP error", `Error executing "`, "contains an unsupported host"):
		return "aws-sdk-php"
	case has("aws_sdk_", "aws_config", "aws_smithy", "aws-smithy", "dispatch failure", "DispatchFailure",
		"CredentialsNotLoaded", "an error occurred while loading credentials", "the credential provider was not enabled"):
		return "aws-sdk-rust"
	case has("@aws-sdk/", "@smithy/", "CredentialsProviderError", "deserializeAws_", "$metadata", "$fault", "ProviderError: "):
		return "aws-sdk-js-v3"
	case has("aws-sdk/lib", "aws-sdk/clients", "Missing credentials in config", "CredentialsError", "AWS.RemoteCredentials",
		"ECSCredentialsProviderFailure",
		"Could not load credentials from any providers", `The "path" argument`):
		return "aws-sdk-js"
	case has("operation error ", "https response error StatusCode", "api error ", "get identity: get credentials",
		"failed to refresh cached credentials", "no EC2 IMDS role found", "failed to resolve service endpoint",
		"exceeded maximum number of attempts"):
		return "aws-sdk-go-v2"
	case has("status code: ") && has("request id: "),
		has("NoCredentialProviders", "WebIdentityErr", "MissingRegion", "RequestError: send request failed",
			"CredentialsChainVerboseErrors", "EC2RoleRequestError", "Ignoring, HTTP credential provider"):
		return "aws-sdk-go"
	}
	return ""
}

// phraseSet finds the first of many lowercase phrases in a line in one pass:
// each phrase is registered under a hash of its first two bytes, so a line
// is read once and only positions whose two bytes start some phrase are
// compared. It replaces one strings.Index per phrase on long phrase lists.
type phraseSet struct {
	phrases []string
	table   [phraseBuckets][]uint16 // bucket -> indexes of the phrases starting there, in list order
	any     [phraseBuckets / 64]uint64
}

const phraseBuckets = 1 << 12

func phraseHash(a, b byte) uint32 { return (uint32(a)<<8 | uint32(b)) * 0x9E3779B1 >> 20 }

// newPhraseSet builds a set from phrase lists (each phrase at least two
// bytes long). Phrases match as written: the rules' lists are lowercase
// and run on the lowercased line.
func newPhraseSet(lists ...[]string) *phraseSet {
	ps := &phraseSet{}
	for _, list := range lists {
		ps.phrases = append(ps.phrases, list...)
	}
	for i, p := range ps.phrases {
		if len(p) < 2 {
			panic("logclass: phrase shorter than two bytes: " + p)
		}
		h := phraseHash(p[0], p[1])
		ps.table[h] = append(ps.table[h], uint16(i))
		ps.any[h>>6] |= 1 << (h & 63)
	}
	return ps
}

// index returns the offset of the first phrase occurring in l (the
// earliest; at equal offsets the first in list order), or -1.
func (ps *phraseSet) index(l string) int {
	for i := 0; i+1 < len(l); i++ {
		h := phraseHash(l[i], l[i+1])
		if ps.any[h>>6]>>(h&63)&1 == 0 {
			continue
		}
		for _, k := range ps.table[h] {
			if strings.HasPrefix(l[i:], ps.phrases[k]) {
				return i
			}
		}
	}
	return -1
}

func (ps *phraseSet) contains(l string) bool { return ps.index(l) >= 0 }

// mark sets seen[k] for every phrase k occurring in l.
func (ps *phraseSet) mark(l string, seen []bool) {
	for i := 0; i+1 < len(l); i++ {
		h := phraseHash(l[i], l[i+1])
		if ps.any[h>>6]>>(h&63)&1 == 0 {
			continue
		}
		for _, k := range ps.table[h] {
			if !seen[k] && strings.HasPrefix(l[i:], ps.phrases[k]) {
				seen[k] = true
			}
		}
	}
}
