// Package iamref holds the IAM basics every other package shares: parsing role, OIDC provider and managed
// policy ARNs (with paths and partitions), decoding policy documents as IAM returns them, and the annotation
// keys the EKS pod identity webhook reads. It is a leaf: it imports nothing of this module.
package iamref

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Annotation keys the EKS pod identity webhook reads, and the audience it requests by default.
const (
	RoleARNAnnotation              = "eks.amazonaws.com/role-arn"
	AudienceAnnotation             = "eks.amazonaws.com/audience"
	STSRegionalEndpointsAnnotation = "eks.amazonaws.com/sts-regional-endpoints"
	TokenExpirationAnnotation      = "eks.amazonaws.com/token-expiration"
	// SkipContainersAnnotation (on a pod) lists containers the webhook leaves alone.
	SkipContainersAnnotation = "eks.amazonaws.com/skip-containers"
	DefaultAudience          = "sts.amazonaws.com"
)

// Audience is the audience the webhook requests for a ServiceAccount's token: its audience annotation, else
// sts.amazonaws.com.
func Audience(annotations map[string]string) string {
	if a := strings.TrimSpace(annotations[AudienceAnnotation]); a != "" {
		return a
	}
	return DefaultAudience
}

// MaxRoleNameLength is IAM's limit on role names.
const MaxRoleNameLength = 64

var (
	roleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	accountRE  = regexp.MustCompile(`^\d{12}$`)
	// pathRE is an IAM path: / alone, or /segments/ of characters \u0021-\u007F, at most 512 characters.
	pathRE      = regexp.MustCompile(`^/([\x21-\x7F]*/)?$`)
	partitionRE = regexp.MustCompile(`^aws[a-z-]*$`)
)

// InvalidError says why a string is not a valid IAM name or ARN. It names no CLI flag.
type InvalidError struct {
	// What is "role ARN", "policy ARN", "OIDC provider ARN" or "IAM role name".
	What, Value, Reason, Want string
}

func (e *InvalidError) Error() string {
	msg := fmt.Sprintf("invalid %s %q", e.What, e.Value)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Want != "" {
		msg += " (want " + e.Want + ")"
	}
	return msg
}

// ValidateRoleName checks IAM's role-name rules.
func ValidateRoleName(name string) error {
	if !roleNameRE.MatchString(name) {
		return &InvalidError{What: "IAM role name", Value: name, Reason: "use 1-64 letters, digits or +=,.@_- characters"}
	}
	return nil
}

// ValidatePath checks an IAM path: "/" or "/a/b/" of characters \u0021-\u007F, at most 512 characters.
func ValidatePath(p string) error {
	if len(p) > 512 || !pathRE.MatchString(p) || strings.Contains(p, "//") {
		return fmt.Errorf("path %q is not an IAM path (/ or /segment/.../ of printable ASCII)", p)
	}
	return nil
}

// parsed is an IAM ARN split into its parts: arn:PARTITION:iam::ACCOUNT:TYPE/[PATH/]NAME.
type parsed struct {
	partition, account, kind, path, name string
}

func parseIAM(s, what, want string, kinds ...string) (parsed, error) {
	bad := func(why string) (parsed, error) {
		return parsed{}, &InvalidError{What: what, Value: s, Reason: why, Want: want}
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return bad("not an ARN")
	}
	if !partitionRE.MatchString(parts[1]) {
		return bad("unknown partition " + parts[1])
	}
	if parts[2] != "iam" || parts[3] != "" {
		return bad("not an IAM ARN")
	}
	p := parsed{partition: parts[1], account: parts[4]}
	resource := parts[5]
	for _, k := range kinds {
		if rest, ok := strings.CutPrefix(resource, k+"/"); ok {
			p.kind = k
			i := strings.LastIndex(rest, "/")
			p.path, p.name = "/"+rest[:i+1], rest[i+1:]
			if i < 0 {
				p.path = "/"
			}
			return p, nil
		}
	}
	return bad("the resource must start with " + kinds[0] + "/")
}

// Role is a parsed IAM role ARN. Two roles are the same only when their whole ARNs are: IAM role names are
// unique in an account, but STS and the webhook use the ARN, path included.
type Role struct {
	ARN       string
	Partition string
	Account   string
	// Path is "/" or "/team/..." (with the slashes); Name is the role name.
	Path string
	Name string
}

// ParseRole parses and checks arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME.
func ParseRole(s string) (Role, error) {
	const want = "arn:aws:iam::123456789012:role/NAME"
	p, err := parseIAM(s, "role ARN", want, "role")
	if err != nil {
		return Role{}, err
	}
	bad := func(why string) (Role, error) {
		return Role{}, &InvalidError{What: "role ARN", Value: s, Reason: why, Want: want}
	}
	if !accountRE.MatchString(p.account) {
		return bad("the account must be 12 digits")
	}
	if err := ValidatePath(p.path); err != nil {
		return bad(err.Error())
	}
	if err := ValidateRoleName(p.name); err != nil {
		return bad(err.Error())
	}
	return Role{ARN: s, Partition: p.partition, Account: p.account, Path: p.path, Name: p.name}, nil
}

// RoleARN builds the ARN of a role.
func RoleARN(partition, account, path, name string) string {
	if path == "" {
		path = "/"
	}
	return fmt.Sprintf("arn:%s:iam::%s:role%s%s", partition, account, path, name)
}

// Policy is a parsed managed policy ARN (account "aws" for AWS managed policies).
type Policy struct {
	ARN, Partition, Account, Path, Name string
}

// ParsePolicy parses and checks arn:PARTITION:iam::(aws|ACCOUNT):policy/[PATH/]NAME.
func ParsePolicy(s string) (Policy, error) {
	const want = "arn:aws:iam::aws:policy/NAME or arn:aws:iam::123456789012:policy/NAME"
	p, err := parseIAM(s, "policy ARN", want, "policy")
	if err != nil {
		return Policy{}, err
	}
	if p.account != "aws" && !accountRE.MatchString(p.account) {
		return Policy{}, &InvalidError{What: "policy ARN", Value: s, Reason: "the account must be aws or 12 digits", Want: want}
	}
	if err := ValidatePath(p.path); err != nil || p.name == "" {
		return Policy{}, &InvalidError{What: "policy ARN", Value: s, Reason: "bad path or name", Want: want}
	}
	return Policy{ARN: s, Partition: p.partition, Account: p.account, Path: p.path, Name: p.name}, nil
}

// OIDCProvider is a parsed IAM OIDC provider ARN: arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST/PATH.
type OIDCProvider struct {
	ARN, Partition, Account string
	// HostPath is the issuer URL without https://, as IAM names the provider.
	HostPath string
}

// ParseOIDCProvider parses an OIDC provider ARN.
func ParseOIDCProvider(s string) (OIDCProvider, error) {
	const want = "arn:aws:iam::123456789012:oidc-provider/HOST/PATH"
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !partitionRE.MatchString(parts[1]) || !accountRE.MatchString(parts[4]) {
		return OIDCProvider{}, &InvalidError{What: "OIDC provider ARN", Value: s, Want: want}
	}
	hp, ok := strings.CutPrefix(parts[5], "oidc-provider/")
	if !ok || hp == "" {
		return OIDCProvider{}, &InvalidError{What: "OIDC provider ARN", Value: s, Reason: "the resource must start with oidc-provider/", Want: want}
	}
	return OIDCProvider{ARN: s, Partition: parts[1], Account: parts[4], HostPath: hp}, nil
}

// OIDCProviderARN builds the ARN of the provider for an issuer host path.
func OIDCProviderARN(partition, account, hostPath string) string {
	return fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", partition, account, hostPath)
}

// DecodePolicyDocument returns a policy document as JSON: IAM returns documents URL-encoded (GetRole,
// GetRolePolicy, GetPolicyVersion), files and callers give them plain. A document is decoded only when it
// is encoded (it starts with %), so a plain one with a literal + or % is kept as is.
func DecodePolicyDocument(doc string) (string, error) {
	trimmed := strings.TrimSpace(doc)
	if !strings.HasPrefix(trimmed, "%") {
		return doc, nil
	}
	d, err := url.QueryUnescape(trimmed)
	if err != nil {
		return "", fmt.Errorf("policy document is not valid URL encoding: %w", err)
	}
	return d, nil
}
