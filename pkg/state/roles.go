package state

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
)

// ListRoles lists every role of the credentials' account under every path (all pages; IAM may return fewer
// items than exist on a page and say so with IsTruncated), their trust documents inline (URL-encoded, as GetRole's).
func ListRoles(ctx context.Context, client iam.ListRolesAPIClient) ([]iamtypes.Role, error) {
	var out []iamtypes.Role
	pages := iam.NewListRolesPaginator(client, &iam.ListRolesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListRoles: %w", awsapi.Short(err))
		}
		out = append(out, page.Roles...)
	}
	return out, nil
}
