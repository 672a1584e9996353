package state

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	iamsvc "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
)

// ClusterListAPI is the part of EKS that lists a region's clusters.
type ClusterListAPI interface {
	ListClusters(ctx context.Context, in *eks.ListClustersInput, optFns ...func(*eks.Options)) (*eks.ListClustersOutput, error)
}

// ClustersAPI is the part of EKS that lists a region's clusters and their issuers; *eks.Client implements it.
type ClustersAPI interface {
	ClusterListAPI
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
}

// ClusterNames lists the EKS clusters of the client's region (optFns may set another), every page, sorted.
func ClusterNames(ctx context.Context, client ClusterListAPI, optFns ...func(*eks.Options)) ([]string, error) {
	var names []string
	pages := eks.NewListClustersPaginator(client, &eks.ListClustersInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx, optFns...)
		if err != nil {
			return nil, err
		}
		names = append(names, page.Clusters...)
	}
	slices.Sort(names)
	return names, nil
}

// EKSCluster is an EKS cluster of the account and its OIDC issuer URL ("" when it has none).
type EKSCluster struct {
	Name, Region, Issuer string
}

// RegionClusters are a region's EKS clusters; Err is set when they could not all be read (then Clusters holds
// only those that were: the region's issuers are not known).
type RegionClusters struct {
	Region   string
	Clusters []EKSCluster
	Err      error
}

// EKSClusters lists the clusters of each region (every page) and describes each (bounded fan-out), the region
// set on each call.
func EKSClusters(ctx context.Context, client ClustersAPI, regions []string) []RegionClusters {
	out := make([]RegionClusters, len(regions))
	var wg sync.WaitGroup
	for i, region := range regions {
		wg.Go(func() { out[i] = regionClusters(ctx, client, region) })
	}
	wg.Wait()
	return out
}

func regionClusters(ctx context.Context, client ClustersAPI, region string) RegionClusters {
	rc := RegionClusters{Region: region}
	inRegion := func(o *eks.Options) { o.Region = region }
	names, err := ClusterNames(ctx, client, inRegion)
	if err != nil {
		rc.Err = fmt.Errorf("eks:ListClusters in %s: %w", region, awsapi.Short(err))
		return rc
	}
	rc.Clusters = make([]EKSCluster, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxInFlight)
	for i, name := range names {
		g.Go(func() error {
			out, err := client.DescribeCluster(gctx, &eks.DescribeClusterInput{Name: aws.String(name)}, inRegion)
			switch {
			case awsapi.IsNotFound(err): // deleted since the list: no issuer to keep
				rc.Clusters[i] = EKSCluster{Name: name, Region: region}
				return nil
			case err != nil:
				return fmt.Errorf("eks:DescribeCluster %s in %s: %w", name, region, awsapi.Short(err))
			}
			c := EKSCluster{Name: name, Region: region}
			if out.Cluster != nil && out.Cluster.Identity != nil && out.Cluster.Identity.Oidc != nil {
				c.Issuer = aws.ToString(out.Cluster.Identity.Oidc.Issuer)
			}
			rc.Clusters[i] = c
			return nil
		})
	}
	rc.Err = g.Wait()
	return rc
}

// ProvidersAPI is the part of IAM that lists the account's OIDC providers and reads their tags.
type ProvidersAPI interface {
	ListOpenIDConnectProviders(ctx context.Context, in *iamsvc.ListOpenIDConnectProvidersInput, optFns ...func(*iamsvc.Options)) (*iamsvc.ListOpenIDConnectProvidersOutput, error)
	GetOpenIDConnectProvider(ctx context.Context, in *iamsvc.GetOpenIDConnectProviderInput, optFns ...func(*iamsvc.Options)) (*iamsvc.GetOpenIDConnectProviderOutput, error)
}

// OIDCProvider is an IAM OIDC provider of the account with its tags; Err is set when they could not be read.
type OIDCProvider struct {
	ARN  string
	Tags []iamtypes.Tag
	Err  error
}

// OIDCProviders lists the account's OIDC providers (IAM answers them in one page) and reads each one's tags
// (bounded fan-out). A provider deleted between the list and its read is left out.
func OIDCProviders(ctx context.Context, client ProvidersAPI) ([]OIDCProvider, error) {
	list, err := client.ListOpenIDConnectProviders(ctx, &iamsvc.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return nil, fmt.Errorf("iam:ListOpenIDConnectProviders: %w", awsapi.Short(err))
	}
	out := make([]OIDCProvider, len(list.OpenIDConnectProviderList))
	gone := make([]bool, len(out))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxInFlight)
	for i, e := range list.OpenIDConnectProviderList {
		arn := aws.ToString(e.Arn)
		g.Go(func() error {
			p, err := client.GetOpenIDConnectProvider(gctx, &iamsvc.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
			switch {
			case awsapi.IsNotFound(err):
				gone[i] = true
			case err != nil:
				out[i] = OIDCProvider{ARN: arn, Err: fmt.Errorf("iam:GetOpenIDConnectProvider %s: %w", arn, awsapi.Short(err))}
			default:
				out[i] = OIDCProvider{ARN: arn, Tags: p.Tags}
			}
			return nil
		})
	}
	_ = g.Wait() // every goroutine returns nil: a failed read is kept on its provider
	var kept []OIDCProvider
	for i, p := range out {
		if !gone[i] {
			kept = append(kept, p)
		}
	}
	slices.SortFunc(kept, func(a, b OIDCProvider) int { return strings.Compare(a.ARN, b.ARN) })
	return kept, nil
}

// RolesAPI is the IAM call that lists the account's roles with their trust documents.
type RolesAPI interface {
	ListRoles(ctx context.Context, in *iamsvc.ListRolesInput, optFns ...func(*iamsvc.Options)) (*iamsvc.ListRolesOutput, error)
}

// AllRoles lists every role of the account, under every path, every page (IAM may answer fewer than asked for
// on a page); the trust documents come inline (URL-encoded, as IAM returns them).
func AllRoles(ctx context.Context, client RolesAPI) ([]iamtypes.Role, error) {
	var out []iamtypes.Role
	pages := iamsvc.NewListRolesPaginator(client, &iamsvc.ListRolesInput{MaxItems: aws.Int32(1000)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListRoles: %w", awsapi.Short(err))
		}
		out = append(out, page.Roles...)
	}
	return out, nil
}
