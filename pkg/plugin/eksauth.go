package plugin

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
)

// eksAuthCredentials adapts the EKS Auth client to migrate's verifier, which needs only the credentials.
type eksAuthCredentials struct{ client inspect.EKSAuthAPI }

func (a eksAuthCredentials) AssumeRoleForPodIdentity(ctx context.Context, clusterName, token string) (aws.Credentials, error) {
	out, err := a.client.AssumeRoleForPodIdentity(ctx, clusterName, token)
	if err != nil {
		return aws.Credentials{}, err
	}
	return out.Credentials, nil
}
