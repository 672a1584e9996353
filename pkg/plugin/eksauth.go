package plugin

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// eksAuthFactory is a Factory that also gives migrate's EKS Auth client (the test factory does).
type eksAuthFactory interface {
	EKSAuth(ctx context.Context) (setup.EKSAuthAPI, error)
}

// eksAuth returns the EKS Auth client migrate verifies with: the factory's when it has one, else the AWS
// clients' (pkg/awsapi/eksauth) seen through the credentials it returns.
func (g *Globals) eksAuth(ctx context.Context) (setup.EKSAuthAPI, error) {
	if f, ok := unwrapFactory(g.Factory).(eksAuthFactory); ok {
		return f.EKSAuth(ctx)
	}
	clients, err := g.Factory.AWS(ctx)
	if err != nil {
		return nil, err
	}
	return eksAuthCredentials{clients.EKSAuth}, nil
}

// eksAuthCredentials adapts the EKS Auth client to migrate's verifier, which needs only the credentials.
type eksAuthCredentials struct{ client inspect.EKSAuthAPI }

func (a eksAuthCredentials) AssumeRoleForPodIdentity(ctx context.Context, clusterName, token string) (aws.Credentials, error) {
	out, err := a.client.AssumeRoleForPodIdentity(ctx, clusterName, token)
	if err != nil {
		return aws.Credentials{}, err
	}
	return out.Credentials, nil
}
