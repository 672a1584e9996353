package state

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
)

// InlineAPI is the part of IAM that reads a role's inline policies; *iam.Client implements it.
type InlineAPI interface {
	ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, optFns ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
}

// Policy is an inline policy as IAM returns it (Document URL-encoded, as GetRolePolicy answers).
type Policy struct {
	Name, Document string
}

// InlinePolicy reads one inline policy of a role: found false (and no error) when the role or the policy does
// not exist.
func InlinePolicy(ctx context.Context, client InlineAPI, roleName, policyName string) (doc string, found bool, err error) {
	out, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(policyName)})
	switch {
	case awsapi.IsNotFound(err):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("iam:GetRolePolicy %s/%s: %w", roleName, policyName, awsapi.Short(err))
	}
	return aws.ToString(out.PolicyDocument), true, nil
}

// InlinePolicyNames lists the names of a role's inline policies, every page.
func InlinePolicyNames(ctx context.Context, client InlineAPI, roleName string) ([]string, error) {
	var names []string
	pages := iam.NewListRolePoliciesPaginator(client, &iam.ListRolePoliciesInput{RoleName: aws.String(roleName)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListRolePolicies %s: %w", roleName, awsapi.Short(err))
		}
		names = append(names, page.PolicyNames...)
	}
	return names, nil
}

// InlinePolicies lists a role's inline policies (every page: IAM may return fewer names than exist per page)
// and reads each one not skipped; a policy deleted between the list and its read is left out. The first failed
// read is returned.
func InlinePolicies(ctx context.Context, client InlineAPI, roleName string, skip func(name string) bool) ([]Policy, error) {
	names, err := InlinePolicyNames(ctx, client, roleName)
	if err != nil {
		return nil, err
	}
	var out []Policy
	for _, n := range names {
		if skip != nil && skip(n) {
			continue
		}
		doc, found, err := InlinePolicy(ctx, client, roleName, n)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, Policy{Name: n, Document: doc})
		}
	}
	return out, nil
}
