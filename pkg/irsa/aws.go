package irsa

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// IAMAPI is the part of the IAM API that kubectl irsa calls; *iam.Client implements it.
type IAMAPI interface {
	GetOpenIDConnectProvider(ctx context.Context, in *iam.GetOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error)
	CreateOpenIDConnectProvider(ctx context.Context, in *iam.CreateOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.CreateOpenIDConnectProviderOutput, error)
	DeleteOpenIDConnectProvider(ctx context.Context, in *iam.DeleteOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.DeleteOpenIDConnectProviderOutput, error)
	AddClientIDToOpenIDConnectProvider(ctx context.Context, in *iam.AddClientIDToOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.AddClientIDToOpenIDConnectProviderOutput, error)
	RemoveClientIDFromOpenIDConnectProvider(ctx context.Context, in *iam.RemoveClientIDFromOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.RemoveClientIDFromOpenIDConnectProviderOutput, error)

	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	CreateRole(ctx context.Context, in *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	DeleteRole(ctx context.Context, in *iam.DeleteRoleInput, optFns ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)

	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, optFns ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, optFns ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)

	GetPolicy(ctx context.Context, in *iam.GetPolicyInput, optFns ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
	ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
}

// STSAPI is the part of the STS API that kubectl irsa calls; *sts.Client implements it.
type STSAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// EKSAPI is the part of the EKS API that kubectl irsa calls; *eks.Client implements it.
type EKSAPI interface {
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
}

// AWSClients are the AWS API clients built from one aws.Config, seen through the narrow interfaces.
type AWSClients struct {
	IAM        IAMAPI
	IAMInspect InspectIAMAPI
	STS        STSAPI
	EKS        EKSAPI
	EKSInspect InspectEKSAPI
}

// NewAWSClients builds the clients from an SDK configuration (endpoints from AWS_ENDPOINT_URL* included).
func NewAWSClients(cfg aws.Config) AWSClients {
	iamClient, eksClient := iam.NewFromConfig(cfg), eks.NewFromConfig(cfg)
	return AWSClients{IAM: iamClient, IAMInspect: iamClient, STS: sts.NewFromConfig(cfg), EKS: eksClient, EKSInspect: eksClient}
}

// Caller is who the AWS credentials belong to.
type Caller struct {
	ARN       string
	Account   string
	Partition string
}

// WhoAmI checks the AWS credentials with STS GetCallerIdentity.
func WhoAmI(ctx context.Context, client STSAPI) (Caller, error) {
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Caller{}, fmt.Errorf("cannot reach AWS with the current credentials (sts:GetCallerIdentity): %w; check AWS_PROFILE/--aws-profile, `aws sso login`, or AWS_ENDPOINT_URL", AWSError(err))
	}
	c := Caller{ARN: aws.ToString(out.Arn), Account: aws.ToString(out.Account), Partition: "aws"}
	if a, err := arn.Parse(c.ARN); err == nil {
		c.Partition = a.Partition
	}
	return c, nil
}

// IsNotFound reports whether an AWS error means the entity does not exist.
func IsNotFound(err error) bool {
	var nse *iamtypes.NoSuchEntityException
	if errors.As(err, &nse) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "NoSuchEntity" || api.ErrorCode() == "ResourceNotFoundException")
}

// AWSError shortens an SDK error to its API code and message when it has them, dropping request ids and
// retry chatter, so it fits on one line.
func AWSError(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("%s: %s", api.ErrorCode(), api.ErrorMessage())
	}
	var op *smithy.OperationError
	var resp *smithyhttp.ResponseError
	if errors.As(err, &op) && errors.As(err, &resp) {
		return fmt.Errorf("%s:%s answered HTTP %d", strings.ToLower(op.ServiceID), op.OperationName, resp.HTTPStatusCode())
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, "dial tcp"); i >= 0 {
		return errors.New(msg[i:])
	}
	return err
}
