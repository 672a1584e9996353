package fakeaws

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// GetRolePolicy implements the IAM API.
func (f *IAM) GetRolePolicy(_ context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	r, err := f.roleCall("GetRolePolicy", in.RoleName)
	if err != nil {
		return nil, err
	}
	doc, ok := r.inline[aws.ToString(in.PolicyName)]
	if !ok {
		return nil, notFound("policy")
	}
	return &iam.GetRolePolicyOutput{PolicyName: in.PolicyName, PolicyDocument: encode(doc)}, nil
}

// PutRolePolicy implements the IAM API.
func (f *IAM) PutRolePolicy(_ context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	r, err := f.roleCall("PutRolePolicy", in.RoleName)
	if err != nil {
		return nil, err
	}
	r.inline[aws.ToString(in.PolicyName)] = aws.ToString(in.PolicyDocument)
	return &iam.PutRolePolicyOutput{}, nil
}

// DeleteRolePolicy implements the IAM API.
func (f *IAM) DeleteRolePolicy(_ context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	r, err := f.roleCall("DeleteRolePolicy", in.RoleName)
	if err != nil {
		return nil, err
	}
	delete(r.inline, aws.ToString(in.PolicyName))
	return &iam.DeleteRolePolicyOutput{}, nil
}

// ListRolePolicies implements the IAM API, paged.
func (f *IAM) ListRolePolicies(_ context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	r, err := f.roleCall("ListRolePolicies", in.RoleName)
	if err != nil {
		return nil, err
	}
	items, next := page(f.aws, slices.Sorted(maps.Keys(r.inline)), in.Marker)
	return &iam.ListRolePoliciesOutput{PolicyNames: items, Marker: next, IsTruncated: next != nil}, nil
}

// GetPolicy implements the IAM API; AWS managed policies (account aws) all exist, with an Allow * document.
func (f *IAM) GetPolicy(_ context.Context, in *iam.GetPolicyInput, _ ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	if err := f.aws.call("GetPolicy"); err != nil {
		return nil, err
	}
	a := aws.ToString(in.PolicyArn)
	if _, ok := f.policies[a]; !ok && !strings.Contains(a, ":iam::aws:") {
		return nil, notFound("policy " + a)
	}
	return &iam.GetPolicyOutput{Policy: &iamtypes.Policy{Arn: in.PolicyArn, DefaultVersionId: aws.String("v1")}}, nil
}

// GetPolicyVersion implements the IAM API.
func (f *IAM) GetPolicyVersion(_ context.Context, in *iam.GetPolicyVersionInput, _ ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	if err := f.aws.call("GetPolicyVersion"); err != nil {
		return nil, err
	}
	doc, ok := f.policies[aws.ToString(in.PolicyArn)]
	if !ok {
		doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	}
	return &iam.GetPolicyVersionOutput{PolicyVersion: &iamtypes.PolicyVersion{Document: encode(doc), VersionId: in.VersionId}}, nil
}

// AttachRolePolicy implements the IAM API.
func (f *IAM) AttachRolePolicy(_ context.Context, in *iam.AttachRolePolicyInput, _ ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error) {
	r, err := f.roleCall("AttachRolePolicy", in.RoleName)
	if err != nil {
		return nil, err
	}
	r.attached = append(r.attached, aws.ToString(in.PolicyArn))
	return &iam.AttachRolePolicyOutput{}, nil
}

// DetachRolePolicy implements the IAM API.
func (f *IAM) DetachRolePolicy(_ context.Context, in *iam.DetachRolePolicyInput, _ ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error) {
	r, err := f.roleCall("DetachRolePolicy", in.RoleName)
	if err != nil {
		return nil, err
	}
	r.attached = slices.DeleteFunc(r.attached, func(a string) bool { return a == aws.ToString(in.PolicyArn) })
	return &iam.DetachRolePolicyOutput{}, nil
}

// ListAttachedRolePolicies implements the IAM API, paged.
func (f *IAM) ListAttachedRolePolicies(_ context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	r, err := f.roleCall("ListAttachedRolePolicies", in.RoleName)
	if err != nil {
		return nil, err
	}
	var all []iamtypes.AttachedPolicy
	for _, a := range r.attached {
		all = append(all, iamtypes.AttachedPolicy{PolicyArn: aws.String(a), PolicyName: aws.String(a[strings.LastIndex(a, "/")+1:])})
	}
	items, next := page(f.aws, all, in.Marker)
	return &iam.ListAttachedRolePoliciesOutput{AttachedPolicies: items, Marker: next, IsTruncated: next != nil}, nil
}

// SimulatePrincipalPolicy is not implemented, as in moto: callers fall back to reading the policies.
func (f *IAM) SimulatePrincipalPolicy(context.Context, *iam.SimulatePrincipalPolicyInput, ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error) {
	if err := f.aws.call("SimulatePrincipalPolicy"); err != nil {
		return nil, err
	}
	return nil, &smithy.GenericAPIError{Code: "NotImplemented", Message: "SimulatePrincipalPolicy is not implemented"}
}
