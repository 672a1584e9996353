package fakeaws

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// GetCallerIdentity implements the STS API: the account's admin, or the role last assumed when the call
// carries its credentials (as the test of an assumed role does).
func (f *STS) GetCallerIdentity(_ context.Context, _ *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	if err := f.aws.call("GetCallerIdentity"); err != nil {
		return nil, err
	}
	caller := f.CallerARN
	if caller == "" {
		caller = arn("user", "admin")
	}
	if len(optFns) > 0 && f.assumed != "" {
		caller = f.assumed
	}
	return &sts.GetCallerIdentityOutput{Account: aws.String(Account), Arn: aws.String(caller), UserId: aws.String("AIDAFAKE")}, nil
}

// AssumeRoleWithWebIdentity implements the STS API: any token for an existing role (like moto, no trust
// evaluation).
func (f *STS) AssumeRoleWithWebIdentity(_ context.Context, in *sts.AssumeRoleWithWebIdentityInput, _ ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	if err := f.aws.call("AssumeRoleWithWebIdentity"); err != nil {
		return nil, err
	}
	roleARN := aws.ToString(in.RoleArn)
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	if _, err := f.aws.IAM.get(name); err != nil {
		return nil, err
	}
	f.assumed = "arn:aws:sts::" + Account + ":assumed-role/" + name + "/" + aws.ToString(in.RoleSessionName)
	exp := time.Now().Add(time.Hour)
	return &sts.AssumeRoleWithWebIdentityOutput{Credentials: &ststypes.Credentials{
		AccessKeyId: aws.String("ASIAFAKE"), SecretAccessKey: aws.String("secret"), SessionToken: aws.String("session"), Expiration: &exp}}, nil
}

// EKS is an in-memory EKS: cluster issuers, Pod Identity associations and access entries.
type EKS struct {
	aws *AWS
	// Clusters maps a cluster name to its OIDC issuer URL.
	Clusters map[string]string
	// Associations are the Pod Identity associations, each with its role ARN.
	Associations []ekstypes.PodIdentityAssociation
	// AccessEntries maps a principal ARN to its type (EC2_LINUX for nodes).
	AccessEntries map[string]string
	// AuthenticationMode is what DescribeCluster reports in accessConfig ("": no accessConfig, as moto answers).
	AuthenticationMode string
	// Addons are the installed EKS add-ons by name (podidentity.go).
	Addons []string
	seq    int
}

// DescribeCluster implements the EKS API.
func (f *EKS) DescribeCluster(_ context.Context, in *eks.DescribeClusterInput, _ ...func(*eks.Options)) (*eks.DescribeClusterOutput, error) {
	if err := f.aws.call("DescribeCluster"); err != nil {
		return nil, err
	}
	iss, ok := f.Clusters[aws.ToString(in.Name)]
	if !ok {
		return nil, &ekstypes.ResourceNotFoundException{Message: aws.String("no cluster " + aws.ToString(in.Name))}
	}
	out := &eks.DescribeClusterOutput{Cluster: &ekstypes.Cluster{Name: in.Name, Identity: &ekstypes.Identity{Oidc: &ekstypes.OIDC{Issuer: aws.String(iss)}}}}
	if f.AuthenticationMode != "" {
		out.Cluster.AccessConfig = &ekstypes.AccessConfigResponse{AuthenticationMode: ekstypes.AuthenticationMode(f.AuthenticationMode)}
	}
	return out, nil
}

// ListPodIdentityAssociations implements the EKS API, paged.
func (f *EKS) ListPodIdentityAssociations(_ context.Context, in *eks.ListPodIdentityAssociationsInput, _ ...func(*eks.Options)) (*eks.ListPodIdentityAssociationsOutput, error) {
	if err := f.aws.call("ListPodIdentityAssociations"); err != nil {
		return nil, err
	}
	var all []ekstypes.PodIdentityAssociationSummary
	for _, a := range f.Associations {
		if c := aws.ToString(a.ClusterName); c != "" && in.ClusterName != nil && c != aws.ToString(in.ClusterName) {
			continue // another cluster's
		}
		if in.Namespace == nil || aws.ToString(in.Namespace) == aws.ToString(a.Namespace) {
			all = append(all, ekstypes.PodIdentityAssociationSummary{AssociationId: a.AssociationId, Namespace: a.Namespace, ServiceAccount: a.ServiceAccount})
		}
	}
	items, next := page(f.aws, all, in.NextToken)
	return &eks.ListPodIdentityAssociationsOutput{Associations: items, NextToken: next}, nil
}

// DescribePodIdentityAssociation implements the EKS API.
func (f *EKS) DescribePodIdentityAssociation(_ context.Context, in *eks.DescribePodIdentityAssociationInput, _ ...func(*eks.Options)) (*eks.DescribePodIdentityAssociationOutput, error) {
	if err := f.aws.call("DescribePodIdentityAssociation"); err != nil {
		return nil, err
	}
	for _, a := range f.Associations {
		if aws.ToString(a.AssociationId) == aws.ToString(in.AssociationId) {
			return &eks.DescribePodIdentityAssociationOutput{Association: &a}, nil
		}
	}
	return nil, &ekstypes.ResourceNotFoundException{Message: aws.String("no association")}
}

// ListAccessEntries implements the EKS API, paged.
func (f *EKS) ListAccessEntries(_ context.Context, in *eks.ListAccessEntriesInput, _ ...func(*eks.Options)) (*eks.ListAccessEntriesOutput, error) {
	if err := f.aws.call("ListAccessEntries"); err != nil {
		return nil, err
	}
	items, next := page(f.aws, slices.Sorted(maps.Keys(f.AccessEntries)), in.NextToken)
	return &eks.ListAccessEntriesOutput{AccessEntries: items, NextToken: next}, nil
}

// DescribeAccessEntry implements the EKS API.
func (f *EKS) DescribeAccessEntry(_ context.Context, in *eks.DescribeAccessEntryInput, _ ...func(*eks.Options)) (*eks.DescribeAccessEntryOutput, error) {
	if err := f.aws.call("DescribeAccessEntry"); err != nil {
		return nil, err
	}
	typ, ok := f.AccessEntries[aws.ToString(in.PrincipalArn)]
	if !ok {
		return nil, &ekstypes.ResourceNotFoundException{Message: aws.String("no access entry")}
	}
	return &eks.DescribeAccessEntryOutput{AccessEntry: &ekstypes.AccessEntry{PrincipalArn: in.PrincipalArn, Type: aws.String(typ)}}, nil
}

// ListClusters implements the EKS API, paged.
func (f *EKS) ListClusters(_ context.Context, in *eks.ListClustersInput, _ ...func(*eks.Options)) (*eks.ListClustersOutput, error) {
	if err := f.aws.call("ListClusters"); err != nil {
		return nil, err
	}
	names := slices.Sorted(maps.Keys(f.Clusters))
	items, next := page(f.aws, names, in.NextToken)
	return &eks.ListClustersOutput{Clusters: items, NextToken: next}, nil
}
