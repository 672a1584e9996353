package fakeaws

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

// DescribeAddon implements the EKS API for the add-ons named in Addons (status ACTIVE).
func (f *EKS) DescribeAddon(_ context.Context, in *eks.DescribeAddonInput, _ ...func(*eks.Options)) (*eks.DescribeAddonOutput, error) {
	if err := f.aws.call("DescribeAddon"); err != nil {
		return nil, err
	}
	if !slices.Contains(f.Addons, aws.ToString(in.AddonName)) {
		return nil, &ekstypes.ResourceNotFoundException{Message: aws.String("No addon: " + aws.ToString(in.AddonName) + " found in cluster: " + aws.ToString(in.ClusterName))}
	}
	return &eks.DescribeAddonOutput{Addon: &ekstypes.Addon{AddonName: in.AddonName, ClusterName: in.ClusterName, Status: ekstypes.AddonStatusActive}}, nil
}
