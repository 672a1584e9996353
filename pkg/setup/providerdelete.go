package setup

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// DeleteProviderIfUnused deletes an IAM OIDC provider this run created, unless a role's trust names it at this
// moment (every role is listed, trust documents inline): on AWS, deleting a provider breaks IRSA for every
// role of the cluster. A provider in use is kept and reported as such (Kept).
func DeleteProviderIfUnused(ctx context.Context, client IAMAPI, providerARN string) error {
	lister, ok := client.(iam.ListRolesAPIClient)
	if !ok {
		return Kept("OIDC provider " + providerARN + ": cannot list roles to check it is unused, so it was left in place")
	}
	pages := iam.NewListRolesPaginator(lister, &iam.ListRolesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("iam:ListRoles (checking OIDC provider %s is unused): %w", providerARN, awsapi.Short(err))
		}
		for _, r := range page.Roles {
			if trustNames(aws.ToString(r.AssumeRolePolicyDocument), providerARN) {
				return Kept(fmt.Sprintf("OIDC provider %s: role %s trusts it, so it was left in place", providerARN, aws.ToString(r.RoleName)))
			}
		}
	}
	return DeleteProvider(ctx, client, providerARN)
}

// trustNames reports whether a trust document names the provider as a Federated principal. A document that
// cannot be parsed counts as naming it (keeping a provider is the safe side).
func trustNames(doc, providerARN string) bool {
	d, err := trust.Parse(doc)
	if err != nil {
		return true
	}
	for _, raw := range d.Statements {
		st, err := trust.ParseStatement(raw)
		if err != nil || slices.Contains(st.Principal.Federated, providerARN) {
			return true
		}
	}
	return false
}
