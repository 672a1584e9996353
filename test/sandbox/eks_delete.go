package sandbox

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
)

// DeleteEKSCluster deletes the EKS record of cluster name, as deleting an EKS cluster does: ListClusters no longer
// lists it and DescribeCluster answers ResourceNotFoundException. Its kube-apiserver (if the sandbox started one)
// and its kubeconfig context are left as they are, as a deleted cluster's context is left in a user's kubeconfig.
func (s *Sandbox) DeleteEKSCluster(ctx context.Context, name string) error {
	client := eks.New(eks.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.MotoEndpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	})
	if _, err := client.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String(name)}); err != nil {
		return fmt.Errorf("delete EKS cluster %s in moto: %w", name, err)
	}
	s.EKS.mu.Lock()
	delete(s.EKS.issuers, fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, Account, name))
	s.EKS.mu.Unlock()
	return nil
}
