package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// podIdentityRuns measures link --pod-identity (fresh, repeated) and the migration of the seed ServiceAccount,
// IRSA-linked by the runs before, to Pod Identity (the agent add-on installed first).
func podIdentityRuns(ctx context.Context, kube kubernetes.Interface, endpoint string, exec1 func(name, limit string, args ...string) measure, results *[]measure) error {
	mustNS(ctx, kube, "pi-bench")
	mustSA(ctx, kube, "pi-bench", "app", nil)
	*results = append(*results,
		exec1("link --pod-identity (fresh, --allow)", "<= 8 AWS calls", "link", "app", "-n", "pi-bench", "--pod-identity", "--role-name", "pi-bench-role", "--allow", "eks:ListClusters"),
		exec1("link --pod-identity (repeated)", "0 writes", "link", "app", "-n", "pi-bench", "--pod-identity", "--role-name", "pi-bench-role", "--allow", "eks:ListClusters"),
	)
	client := eks.New(eks.Options{Region: sandbox.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, "")})
	if _, err := client.CreateAddon(ctx, &eks.CreateAddonInput{ClusterName: aws.String(sandbox.ClusterName), AddonName: aws.String(sandbox.PodIdentityAgentAddon)}); err != nil {
		return err
	}
	*results = append(*results,
		exec1("migrate (one IRSA-linked SA, verified through EKS Auth)", "preflight, trust, association, record, verify", "migrate", "irsa-test", "-n", "irsa-sample-ns"),
		exec1("migrate (repeated)", "0 writes", "migrate", "irsa-test", "-n", "irsa-sample-ns"),
	)
	return nil
}
