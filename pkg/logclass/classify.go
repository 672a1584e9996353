// Package logclass classifies application log lines that show an IRSA (IAM
// Roles for Service Accounts) credential failure, for `kubectl irsa doctor`.
//
// It is pure: no network, filesystem, Kubernetes or AWS calls. Rules follow
// how the AWS SDKs and tools word their errors (aws-sdk-go v1/v2, Java v1/v2,
// boto3/botocore and the AWS CLI, JavaScript v2/v3, .NET, Ruby, PHP, Rust
// and rusoto, C++, and the tools built on them), not a fixed list of
// strings; sdkMessages lists the messages each SDK defines and where. A line that only mentions a word such as
// "access denied" without evidence of an IRSA credential problem yields no
// finding.
package logclass

import (
	"strings"
)

// ID names the kind of IRSA failure a finding reports. The string values are
// a public contract: they appear in `kubectl irsa doctor` output.
type ID string

// The finding ids. When a line shows several causes, the most specific one
// is reported (e.g. TrustRejected rather than NoCredentials for
// "failed to retrieve credentials ... Not authorized to perform
// sts:AssumeRoleWithWebIdentity").
const (
	// NodeRoleFallback: the denied caller is the EC2 node's instance role,
	// so the SDK fell back to IMDS instead of using the pod's IRSA role.
	NodeRoleFallback ID = "NodeRoleFallback"
	// PermissionMissing: the pod's own role was used but its policies do
	// not allow the action.
	PermissionMissing ID = "PermissionMissing"
	// TrustRejected: STS refused AssumeRoleWithWebIdentity, usually because
	// the role's trust policy does not accept the service account token.
	TrustRejected ID = "TrustRejected"
	// NoOIDCProvider: the cluster's OIDC issuer is not registered as an IAM
	// OIDC identity provider in the account.
	NoOIDCProvider ID = "NoOIDCProvider"
	// BadAudience: the projected token's audience is not accepted by the
	// IAM OIDC provider (expected sts.amazonaws.com).
	BadAudience ID = "BadAudience"
	// TokenExpired: the web identity token, or the temporary credentials
	// obtained with it, expired and were not refreshed.
	TokenExpired ID = "TokenExpired"
	// TokenUnreadable: the projected web identity token file could not be
	// read (permissions, fsGroup, missing or empty path).
	TokenUnreadable ID = "TokenUnreadable"
	// NoCredentials: no provider in the SDK's credential chain produced
	// credentials (IRSA environment not injected, IMDS unreachable).
	NoCredentials ID = "NoCredentials"
	// InvalidRoleARN: the role ARN given to AssumeRoleWithWebIdentity is
	// malformed or empty.
	InvalidRoleARN ID = "InvalidRoleARN"
	// RegionOrEndpoint: no region is configured or the STS/regional
	// endpoint could not be resolved or reached.
	RegionOrEndpoint ID = "RegionOrEndpoint"
	// Thumbprint: the OIDC provider's certificate does not match the
	// thumbprint configured on the IAM OIDC provider.
	Thumbprint ID = "Thumbprint"
	// StaticCredentials: the denied caller is an IAM user, i.e. static
	// access keys are in use instead of the web identity role.
	StaticCredentials ID = "StaticCredentials"

	// EKS Pod Identity failures, as the SDKs and the EKS Pod Identity Agent
	// word them.

	// PodIdentityEndpointUnreachable: the container credentials endpoint
	// of the EKS Pod Identity Agent (169.254.170.23 or [fd00:ec2::23])
	// refused the connection or timed out (agent not running on the node,
	// hostNetwork blocked, or a proxy without NO_PROXY for it).
	PodIdentityEndpointUnreachable ID = "PodIdentityEndpointUnreachable"
	// PodIdentityDenied: EKS Auth refused AssumeRoleForPodIdentity: the
	// associated role does not trust pods.eks.amazonaws.com with
	// sts:AssumeRole and sts:TagSession, or the node role may not call
	// eks-auth:AssumeRoleForPodIdentity.
	PodIdentityDenied ID = "PodIdentityDenied"
	// PodIdentityOldSDK: the SDK predates EKS Pod Identity and refuses the
	// agent's endpoint as a container credentials host ("only loopback
	// hosts are allowed", "Unsupported host").
	PodIdentityOldSDK ID = "PodIdentityOldSDK"
	// PodIdentityAgentNotListening: the EKS Pod Identity Agent's own log
	// shows it does not serve on 169.254.170.23:80 / [fd00:ec2::23]:80
	// (failed to bind, failed its self probe).
	PodIdentityAgentNotListening ID = "PodIdentityAgentNotListening"
	// PodIdentityEKSAuthUnreachable: the agent's AssumeRoleForPodIdentity
	// call to EKS Auth was canceled or timed out (no route, DNS, proxy or
	// VPC endpoint to eks-auth.REGION.api.aws).
	PodIdentityEKSAuthUnreachable ID = "PodIdentityEKSAuthUnreachable"
	// PodIdentityBlockedByNetworkPolicy: a network policy drops the pod's
	// packets to the agent's address.
	PodIdentityBlockedByNetworkPolicy ID = "PodIdentityBlockedByNetworkPolicy"
	// PodIdentityTokenMissing: the SDK cannot read the file named by
	// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (eks-pod-identity-token).
	PodIdentityTokenMissing ID = "PodIdentityTokenMissing"
	// PodIdentityTokenEmpty: the agent got no token, an empty or a
	// malformed one (a client without token-file support, an empty file).
	PodIdentityTokenEmpty ID = "PodIdentityTokenEmpty"
	// PodIdentityTokenExpired: the Pod Identity token the pod sent had
	// expired (agent validation or EKS Auth ExpiredTokenException).
	PodIdentityTokenExpired ID = "PodIdentityTokenExpired"
	// PodIdentityAssociationRefused: EKS refused to create or use the Pod
	// Identity association (invalid trust, one already exists, add-on
	// without Pod Identity support, none found by EKS Auth).
	PodIdentityAssociationRefused ID = "PodIdentityAssociationRefused"
)

const (
	confHigh   = "high"
	confMedium = "medium"
	confLow    = "low"
)

// Finding is one classified log record.
type Finding struct {
	// ID is the kind of failure.
	ID ID
	// Line is the 1-based line number in the input where the record
	// starts (ClassifyLine always reports 1).
	Line int
	// CallerARN is the denied caller as printed, e.g.
	// arn:aws:sts::123456789012:assumed-role/ROLE/SESSION (may be redacted).
	CallerARN string
	// Account is the caller's account id as printed (may be redacted).
	Account string
	// Role is the caller's role name, for assumed-role callers.
	Role string
	// Session is the caller's role session name, for assumed-role callers.
	Session string
	// Action is the denied action, e.g. eks:ListClusters.
	Action string
	// Resource is the resource named by the message: the denied resource,
	// the OIDC issuer URL or the unreachable endpoint host.
	Resource string
	// Blocked is the kind of policy a denial message blames (see denial.go).
	Blocked Blocked `json:",omitzero"`
	// Encoded is true when a denial message carries an encoded authorization message.
	Encoded bool `json:",omitempty"`
	// SDK is the AWS SDK or tool recognisable in the line (e.g.
	// "aws-sdk-go", "aws-sdk-go-v2", "aws-sdk-java-v2", "boto3",
	// "aws-cli", "aws-sdk-js-v3"), or "" when none is visible.
	SDK string
	// Confidence is "high", "medium" or "low"; Reason explains it.
	Confidence string
	// Reason is one sentence of evidence for the finding.
	Reason string
	// Excerpt is the matched part of the line, cleaned of escapes and ANSI
	// codes, at most about 300 bytes.
	Excerpt string
	// Count is the number of records a Collector merged into this finding
	// (at least 1); 0 from Scan and ClassifyLine, which report one record.
	Count int `json:",omitempty"`
	// Lines holds the first line numbers (Line first) of the records a
	// Collector merged, at most Collector.MaxLines of them; the other
	// Count-len(Lines) records are only counted.
	Lines []int `json:",omitempty"`
	// Others counts the records of other identities (another role, action
	// or resource) a Collector counted here, with the first finding of the
	// same ID, once it held its bound of distinct findings; they are not in
	// Count or Lines.
	Others int `json:",omitempty"`
}

// Classifier classifies log lines. The zero value is ready to use; a
// Classifier must not be modified while ClassifyLine or Scan run, and is
// otherwise safe for concurrent use.
type Classifier struct {
	// NodeRoles holds role names known (from live cluster state: aws-auth
	// mapRoles with group system:nodes, or EKS access entries of type
	// EC2_LINUX) to be node roles. Lookups ignore case.
	NodeRoles map[string]bool
}

// ClassifyLine classifies one record (one physical line, possibly holding a
// JSON document with escaped newlines). It returns the most specific finding
// and true, or false when no IRSA credential failure can be claimed.
func (c *Classifier) ClassifyLine(line string) (Finding, bool) {
	if len(line) > maxLineBytes {
		line = line[:maxLineBytes]
	}
	if !hasKeyword(line) {
		return Finding{}, false
	}
	f, ok := c.classify(line)
	if ok {
		f.Line = 1
	}
	return f, ok
}

// classify runs the rules on a line that passed the keyword prefilter.
func (c *Classifier) classify(raw string) (Finding, bool) {
	s := normalize(raw)
	l := asciiLower(s)
	active := gates().activeRules(l)
	for k, r := range rules {
		if active&(1<<k) == 0 {
			continue
		}
		if m, ok := r.run(c, s, l); ok {
			if m.id == "" {
				// A rule recognised a look-alike: nothing may be claimed.
				return Finding{}, false
			}
			f := m.f
			f.ID = m.id
			f.Confidence = m.conf
			f.Reason = m.reason
			f.SDK = detectSDK(s)
			f.Excerpt = excerpt(s, m.at)
			return safeFinding(f), true
		}
	}
	return Finding{}, false
}

// isNodeRole reports whether role is listed in c.NodeRoles (ignoring case).
func (c *Classifier) isNodeRole(role string) bool {
	if c == nil || len(c.NodeRoles) == 0 || role == "" {
		return false
	}
	if v, ok := c.NodeRoles[role]; ok {
		return v
	}
	for k, v := range c.NodeRoles {
		if v && strings.EqualFold(k, role) {
			return true
		}
	}
	return false
}
