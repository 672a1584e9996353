package setup

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// EKSAuthAPI is EKS Auth's AssumeRoleForPodIdentity: a ServiceAccount token (audience pods.eks.amazonaws.com)
// exchanged for the associated role's credentials.
type EKSAuthAPI interface {
	AssumeRoleForPodIdentity(ctx context.Context, clusterName, token string) (aws.Credentials, error)
}

// EndToEndVerifier proves a Pod Identity association the way the agent uses it: a TokenRequest with the
// Pod Identity audience, EKS Auth AssumeRoleForPodIdentity, then STS GetCallerIdentity with the credentials.
// The token and the credentials are never printed.
type EndToEndVerifier struct {
	Kube    kubernetes.Interface
	EKSAuth EKSAuthAPI
	STS     awsapi.CallerAPI
}

// Verify returns the ARN STS answers for the credentials EKS Auth gave the ServiceAccount.
func (v *EndToEndVerifier) Verify(ctx context.Context, cluster, namespace, serviceAccount string) (string, error) {
	exp := int64(600)
	tr, err := v.Kube.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, serviceAccount, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{Audiences: []string{trust.ServicePodIdentity}, ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("cannot request a token for %s/%s (audience %s): %w", namespace, serviceAccount, trust.ServicePodIdentity, err)
	}
	creds, err := v.EKSAuth.AssumeRoleForPodIdentity(ctx, cluster, tr.Status.Token)
	if err != nil {
		return "", fmt.Errorf("eks-auth:AssumeRoleForPodIdentity: %w", awsapi.Short(err))
	}
	out, err := v.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) {
		o.Credentials = credentials.StaticCredentialsProvider{Value: creds}
	})
	if err != nil {
		return "", fmt.Errorf("sts:GetCallerIdentity with the Pod Identity credentials: %w", awsapi.Short(err))
	}
	return aws.ToString(out.Arn), nil
}
