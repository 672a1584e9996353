package irsa

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"k8s.io/apimachinery/pkg/util/validation"
)

// MaxRoleNameLength is IAM's limit on role names.
const MaxRoleNameLength = 64

var roleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// ValidateRoleName checks IAM's role-name rules.
func ValidateRoleName(name string) error {
	if !roleNameRE.MatchString(name) {
		return fmt.Errorf("invalid IAM role name %q: use 1-64 letters, digits or +=,.@_- characters", name)
	}
	return nil
}

// ValidateServiceAccountName checks a ServiceAccount name (a DNS-1123 subdomain).
func ValidateServiceAccountName(name string) error {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("invalid ServiceAccount name %q: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// ValidateNamespace checks a namespace name (a DNS-1123 label).
func ValidateNamespace(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fmt.Errorf("invalid namespace %q: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// RoleARN is a parsed IAM role ARN.
type RoleARN struct {
	ARN       string
	Partition string
	Account   string
	// Name is the role name, the last segment of the resource path.
	Name string
}

var accountRE = regexp.MustCompile(`^\d{12}$`)

// ParseRoleARN parses and checks arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME.
func ParseRoleARN(s string) (RoleARN, error) {
	bad := func(why string) (RoleARN, error) {
		return RoleARN{}, fmt.Errorf("invalid role ARN %q: %s (want arn:aws:iam::123456789012:role/NAME)", s, why)
	}
	a, err := arn.Parse(s)
	if err != nil {
		return bad("not an ARN")
	}
	if a.Service != "iam" || a.Region != "" {
		return bad("not an IAM ARN")
	}
	if !accountRE.MatchString(a.AccountID) {
		return bad("the account must be 12 digits")
	}
	path, ok := strings.CutPrefix(a.Resource, "role/")
	if !ok {
		return bad("the resource must start with role/")
	}
	name := path[strings.LastIndex(path, "/")+1:]
	if err := ValidateRoleName(name); err != nil {
		return bad(err.Error())
	}
	return RoleARN{ARN: s, Partition: a.Partition, Account: a.AccountID, Name: name}, nil
}

// DefaultRoleName derives a role name from the cluster, namespace and ServiceAccount: irsa-CLUSTER-NS-SA,
// cut to 64 characters with a short hash of the full name when too long, so distinct inputs stay distinct.
func DefaultRoleName(cluster, namespace, serviceAccount string) string {
	parts := []string{"irsa"}
	if cluster != "" {
		parts = append(parts, cluster)
	}
	parts = append(parts, namespace, serviceAccount)
	name := strings.Join(parts, "-")
	name = regexp.MustCompile(`[^\w+=,.@-]`).ReplaceAllString(name, "-")
	if len(name) <= MaxRoleNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "-" + hex.EncodeToString(sum[:4])
	return strings.TrimRight(name[:MaxRoleNameLength-len(suffix)], "-") + suffix
}

// ValidatePolicyARN checks arn:PARTITION:iam::(aws|ACCOUNT):policy/[PATH/]NAME.
func ValidatePolicyARN(s string) error {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "policy/") || (a.AccountID != "aws" && !accountRE.MatchString(a.AccountID)) {
		return fmt.Errorf("invalid policy ARN %q in --attach-policy-arn: want arn:aws:iam::aws:policy/NAME or arn:aws:iam::123456789012:policy/NAME", s)
	}
	return nil
}
