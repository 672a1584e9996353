package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

// RoleAPI is iam:GetRole; *iam.Client implements it.
type RoleAPI interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

// AttachedAPI lists a role's attached managed policies; *iam.Client implements it.
type AttachedAPI interface {
	ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
}

// ManagedPolicyAPI reads a managed policy's default version; *iam.Client implements it.
type ManagedPolicyAPI interface {
	GetPolicy(ctx context.Context, in *iam.GetPolicyInput, optFns ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, optFns ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
}

// ProviderAPI is iam:GetOpenIDConnectProvider; *iam.Client implements it.
type ProviderAPI interface {
	GetOpenIDConnectProvider(ctx context.Context, in *iam.GetOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error)
}

// Role is an IAM role as iam:GetRole answers for a name, three-valued: Found, Missing, or Unknown (Err says why).
type Role struct {
	Name     string
	Presence Presence
	// Err is the SDK's answer when the role was not found: not found (Missing) or why not (Unknown).
	Err error
	// ARN, Path and Account are IAM's (the ARN may differ from the one asked for: the same name at another path).
	ARN, Path, Account string
	// Trust is the trust policy document as IAM returns it (URL-encoded).
	Trust string
	Tags  map[string]string
}

// ReadError is the read's error in one line naming the call ("iam:GetRole NAME: why"), nil when Found.
func (r Role) ReadError() error {
	if r.Presence == Found {
		return nil
	}
	return fmt.Errorf("iam:GetRole %s: %w", r.Name, awsapi.Short(r.Err))
}

// Is reports whether the role found has exactly this ARN (path, account and partition included).
func (r Role) Is(arn string) bool { return r.Presence == Found && r.ARN == arn }

// ReadRole reads a role by name with one iam:GetRole. Writers call it directly (never cached: what they
// read must be fresh); the read commands go through a Reader.
func ReadRole(ctx context.Context, client RoleAPI, name string) Role {
	out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	switch {
	case awsapi.IsNotFound(err):
		return Role{Name: name, Presence: Missing, Err: err}
	case err != nil:
		return Role{Name: name, Presence: Unknown, Err: err}
	case out.Role == nil:
		return Role{Name: name, Presence: Unknown, Err: errors.New("no role in the answer")}
	}
	r := Role{Name: name, Presence: Found, ARN: aws.ToString(out.Role.Arn), Path: aws.ToString(out.Role.Path),
		Trust: aws.ToString(out.Role.AssumeRolePolicyDocument), Tags: TagMap(out.Role.Tags)}
	if ref, err := iamref.ParseRole(r.ARN); err == nil {
		r.Account = ref.Account
	}
	return r
}

// TagMap is IAM's tag list as a map of key to value.
func TagMap(tags []iamtypes.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// AttachedPolicy is a managed policy attached to a role.
type AttachedPolicy struct{ ARN, Name string }

// AttachedPolicies lists a role's attached managed policies, every page. On a failed page it returns what it
// read so far and the error.
func AttachedPolicies(ctx context.Context, client AttachedAPI, roleName string) ([]AttachedPolicy, error) {
	var out []AttachedPolicy
	pages := iam.NewListAttachedRolePoliciesPaginator(client, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(roleName)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("iam:ListAttachedRolePolicies %s: %w", roleName, awsapi.Short(err))
		}
		for _, p := range page.AttachedPolicies {
			out = append(out, AttachedPolicy{ARN: aws.ToString(p.PolicyArn), Name: aws.ToString(p.PolicyName)})
		}
	}
	return out, nil
}

// ManagedPolicyDocument reads the default version of a managed policy (the document as IAM returns it,
// URL-encoded). A missing policy is an error awsapi.IsNotFound recognises.
func ManagedPolicyDocument(ctx context.Context, client ManagedPolicyAPI, arn string) (string, error) {
	pol, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("iam:GetPolicy %s: %w", arn, awsapi.Short(err))
	}
	if pol.Policy == nil || aws.ToString(pol.Policy.DefaultVersionId) == "" {
		return "", fmt.Errorf("iam:GetPolicy %s: no default version in the answer", arn)
	}
	version := aws.ToString(pol.Policy.DefaultVersionId)
	v, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(version)})
	if err != nil {
		return "", fmt.Errorf("iam:GetPolicyVersion %s %s: %w", arn, version, awsapi.Short(err))
	}
	if v.PolicyVersion == nil {
		return "", fmt.Errorf("iam:GetPolicyVersion %s %s: no document in the answer", arn, version)
	}
	return aws.ToString(v.PolicyVersion.Document), nil
}

// Provider is an IAM OIDC provider, three-valued: Found, Missing, or Unknown (Err says why).
type Provider struct {
	ARN      string
	Presence Presence
	// Err is the SDK's answer when the provider was not found: not found (Missing) or why not (Unknown).
	Err       error
	ClientIDs []string
}

// ReadError is the read's error in one line naming the call, nil when Found.
func (p Provider) ReadError() error {
	if p.Presence == Found {
		return nil
	}
	return fmt.Errorf("iam:GetOpenIDConnectProvider %s: %w", p.ARN, awsapi.Short(p.Err))
}

// ReadProvider reads an OIDC provider by ARN with one iam:GetOpenIDConnectProvider (uncached; see ReadRole).
func ReadProvider(ctx context.Context, client ProviderAPI, arn string) Provider {
	out, err := client.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	switch {
	case awsapi.IsNotFound(err):
		return Provider{ARN: arn, Presence: Missing, Err: err}
	case err != nil:
		return Provider{ARN: arn, Presence: Unknown, Err: err}
	}
	return Provider{ARN: arn, Presence: Found, ClientIDs: out.ClientIDList}
}
