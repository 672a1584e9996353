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
	// JS v2's short form; the agent's token checks; the SDKs' Pod Identity token file (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).
	"credentials in config", "Service account token", "authorization token", "auth token", "TokenFileReadError",
	// The Pod Identity association APIs and add-on configuration.
	"odIdentityAssociation", "od identity association", "od_identity_association", "od Identity feature",
	"od identity configuration",
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

// gatedRule is a rule and its gate: the phrases (lowercase) of which the
// line must hold one for the rule to match at all. The gates of all rules
// are looked for in one pass over the line (see activeRules), so a rule
// costs nothing on the many prefiltered lines without its words.
type gatedRule struct {
	gate []string
	run  rule
}

// rules in priority order: the most specific cause wins.
// A rule may return a match with an empty id: the line is a known
// look-alike and no finding may be claimed for it.
var rules = []gatedRule{
	{[]string{"retrieve verification key", "thumbprint"}, ruleThumbprint},
	{[]string{"no openidconnect provider found", "openidconnect provider not found"}, ruleNoOIDCProvider},
	{[]string{"audience", "claim"}, ruleBadAudience},
	{[]string{podIdentityDenied, "assumeroleforpodidentity"}, rulePodIdentityDenied},
	{[]string{"token"}, rulePodIdentityToken},
	{[]string{podIdentityHostV4, podIdentityHostV6, "assumeroleforpodidentity", "podidentityassociation", "pod identity",
		"pod_identity_association"}, rulePodIdentityAgent},
	{[]string{podIdentityHostV4, podIdentityHostV6, "loopback"}, rulePodIdentityEndpoint},
	{[]string{"expired"}, ruleTokenExpired},
	{[]string{"token", "unable to read file at", "jwt"}, ruleTokenUnreadable},
	{[]string{notAuthorized}, ruleDeniedCaller},
	{[]string{"encoded authorization failure message"}, ruleEncodedDenial},
	{[]string{"webidentity", "web identity"}, ruleEndpointGarbled},
	{[]string{"assumerolewithwebidentity"}, ruleTrustRejected},
	{[]string{"arn is invalid", "rolearn", "validationerror"}, ruleInvalidRoleARN},
	{[]string{"region", "endpoint", "amazonaws.com"}, ruleRegionOrEndpoint},
	{[]string{"webidentityerr", "assumerolewithwebidentity"}, ruleWebIdentityUnreachable},
	{[]string{"credential", "imds", "received undefined", "rolesessionname", "class path", "securitytoken",
		"instance metadata", "ec2 metadata", "token file", "webidentitytokenfile", "ec2rolerequest"}, ruleNoCredentials},
	{assumeWrapperPhrases, ruleAssumeWrapper},
}

// ruleGates finds the gates of all rules in one pass over a line.
type ruleGates struct {
	phrases *phraseSet
	rules   []uint64 // per phrase: the bit 1<<k of every rule k it gates
}

var gates = sync.OnceValue(func() *ruleGates {
	if len(rules) > 64 {
		panic("logclass: more than 64 rules")
	}
	index := map[string]int{}
	var phrases []string
	var bits []uint64
	for k, r := range rules {
		for _, p := range r.gate {
			i, ok := index[p]
			if !ok {
				i = len(phrases)
				index[p] = i
				phrases = append(phrases, p)
				bits = append(bits, 0)
			}
			bits[i] |= 1 << k
		}
	}
	return &ruleGates{phrases: newPhraseSet(phrases), rules: bits}
})

// activeRules returns the bit 1<<k of every rule k whose gate l holds.
func (g *ruleGates) activeRules(l string) uint64 {
	var active uint64
	g.phrases.each(l, func(k int) { active |= g.rules[k] })
	return active
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
	// STS words a failed fetch of the issuer's signing keys (JWKS) "Couldn't retrieve verification key from your
	// identity provider": a wrong thumbprint or issuer URL on the IAM OIDC provider, or an issuer it cannot reach.
	if k := strings.Index(l, "retrieve verification key"); k >= 0 && containsAny(l, "invalididentitytoken", "webidentity", "web identity", "identity provider") {
		return match{id: Thumbprint, at: k, conf: confMedium,
			reason: "STS could not fetch the issuer's signing keys: check the IAM OIDC provider's URL and thumbprint (kubectl irsa provider create) and that the issuer is reachable"}, true
	}
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
