package state

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"golang.org/x/sync/errgroup"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
)

// AssociationAPI is the part of EKS that reads Pod Identity associations; *eks.Client implements it.
type AssociationAPI interface {
	ListPodIdentityAssociations(ctx context.Context, in *eks.ListPodIdentityAssociationsInput, optFns ...func(*eks.Options)) (*eks.ListPodIdentityAssociationsOutput, error)
	DescribePodIdentityAssociation(ctx context.Context, in *eks.DescribePodIdentityAssociationInput, optFns ...func(*eks.Options)) (*eks.DescribePodIdentityAssociationOutput, error)
}

// Association is an EKS Pod Identity association: what the list says, and Detail once Describe answered.
type Association struct {
	ID, Namespace, ServiceAccount string
	// Detail is DescribePodIdentityAssociation's answer (nil: not described, or that read failed).
	Detail *ekstypes.PodIdentityAssociation
}

// RoleARN is the association's role ("" until described).
func (a Association) RoleARN() string {
	if a.Detail == nil {
		return ""
	}
	return aws.ToString(a.Detail.RoleArn)
}

// Key is the association's ServiceAccount as NAMESPACE/NAME.
func (a Association) Key() string { return a.Namespace + "/" + a.ServiceAccount }

// ListAssociations lists a cluster's Pod Identity associations (every page), filtered by namespace and
// ServiceAccount when they are not "". optFns apply to every page (a read-only command may not want retries).
func ListAssociations(ctx context.Context, client AssociationAPI, cluster, namespace, serviceAccount string, optFns ...func(*eks.Options)) ([]Association, error) {
	input := &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(cluster)}
	if namespace != "" {
		input.Namespace = aws.String(namespace)
	}
	if serviceAccount != "" {
		input.ServiceAccount = aws.String(serviceAccount)
	}
	var out []Association
	pages := eks.NewListPodIdentityAssociationsPaginator(client, input)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx, optFns...)
		if err != nil {
			return nil, fmt.Errorf("eks:ListPodIdentityAssociations %s: %w", cluster, awsapi.Short(err))
		}
		for _, a := range page.Associations {
			if namespace != "" && aws.ToString(a.Namespace) != namespace || serviceAccount != "" && aws.ToString(a.ServiceAccount) != serviceAccount {
				continue // a filter the endpoint ignored
			}
			out = append(out, Association{ID: aws.ToString(a.AssociationId), Namespace: aws.ToString(a.Namespace), ServiceAccount: aws.ToString(a.ServiceAccount)})
		}
	}
	return out, nil
}

// DescribeAssociations describes each association in place (at most maxInFlight at a time), filling its role
// and target role. It returns the failed reads by association id; the others are Described.
func DescribeAssociations(ctx context.Context, client AssociationAPI, cluster string, list []Association) map[string]error {
	var mu sync.Mutex
	failed := map[string]error{}
	var g errgroup.Group
	g.SetLimit(maxInFlight)
	for i := range list {
		a := &list[i]
		g.Go(func() error {
			d, err := client.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(cluster), AssociationId: aws.String(a.ID)})
			switch {
			case err != nil:
				mu.Lock()
				failed[a.ID] = fmt.Errorf("eks:DescribePodIdentityAssociation %s: %w", a.ID, awsapi.Short(err))
				mu.Unlock()
			case d.Association != nil && d.Association.RoleArn != nil:
				a.Detail = d.Association
			}
			return nil
		})
	}
	_ = g.Wait() // every goroutine returns nil: failures are returned by id
	return failed
}

// FindAssociation returns the association of one ServiceAccount as Describe answers it (nil when it has none).
func FindAssociation(ctx context.Context, client AssociationAPI, cluster, namespace, serviceAccount string) (*ekstypes.PodIdentityAssociation, error) {
	list, err := ListAssociations(ctx, client, cluster, namespace, serviceAccount)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	list = list[:1]
	if failed := DescribeAssociations(ctx, client, cluster, list); len(failed) > 0 {
		return nil, failed[list[0].ID]
	}
	return list[0].Detail, nil
}

// AssociationsOfRole returns the ids of the cluster's associations (any namespace), other than except, whose
// role is roleARN: every page listed, each association described. A failed read is an error: the caller cannot
// tell whether the role is still used.
func AssociationsOfRole(ctx context.Context, client AssociationAPI, cluster, roleARN, except string) ([]string, error) {
	list, err := ListAssociations(ctx, client, cluster, "", "")
	if err != nil {
		return nil, err
	}
	list = slices.DeleteFunc(list, func(a Association) bool { return a.ID == except })
	if failed := DescribeAssociations(ctx, client, cluster, list); len(failed) > 0 {
		ids := slices.Sorted(maps.Keys(failed))
		return nil, failed[ids[0]]
	}
	var users []string
	for _, a := range list {
		if a.RoleARN() == roleARN {
			users = append(users, a.ID)
		}
	}
	slices.Sort(users)
	return users, nil
}

// RolesOfAssociations returns the roles (ARN) of every Pod Identity association of a cluster, every page listed
// and each association described, optFns (such as the region) applied to every call. A failed read is an error.
func RolesOfAssociations(ctx context.Context, client AssociationAPI, cluster string, optFns ...func(*eks.Options)) (map[string]bool, error) {
	list, err := ListAssociations(ctx, client, cluster, "", "", optFns...)
	if err != nil {
		return nil, err
	}
	roles := map[string]bool{}
	for _, a := range list {
		out, err := client.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(cluster), AssociationId: aws.String(a.ID)}, optFns...)
		switch {
		case awsapi.IsNotFound(err): // deleted since the list
		case err != nil:
			return nil, fmt.Errorf("eks:DescribePodIdentityAssociation %s %s: %w", cluster, a.ID, awsapi.Short(err))
		default:
			roles[aws.ToString(out.Association.RoleArn)] = true
		}
	}
	return roles, nil
}
