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

// IAM is an in-memory IAM: roles with paths, trust, tags, inline and attached policies; managed policies;
// OIDC providers.
type IAM struct {
	aws       *AWS
	roles     map[string]*role
	providers map[string][]string
	// providerTags are the tags of providers created through the API.
	providerTags map[string][]iamtypes.Tag
	policies     map[string]string
	// TrustQuota is the AssumeRolePolicySizeQuota GetAccountSummary reports (0: IAM's default, 2048).
	TrustQuota int
}

type role struct {
	path, trust string
	tags        []iamtypes.Tag
	inline      map[string]string
	attached    []string
}

// AddRole creates a role at a path ("" for /) with a trust policy, as a test fixture.
func (f *IAM) AddRole(path, name, trust string) string {
	if path == "" {
		path = "/"
	}
	f.roles[name] = &role{path: path, trust: trust, inline: map[string]string{}}
	return arn("role", strings.TrimPrefix(path, "/")+name)
}

// AddProvider creates an OIDC provider for an issuer host path with client IDs, as a test fixture.
func (f *IAM) AddProvider(hostPath string, clientIDs ...string) {
	f.providers[arn("oidc-provider", hostPath)] = clientIDs
}

// AddManagedPolicy creates a customer managed policy, as a test fixture; it returns its ARN.
func (f *IAM) AddManagedPolicy(name, doc string) string {
	a := arn("policy", name)
	f.policies[a] = doc
	return a
}

// PutInline sets an inline policy of a role, as a test fixture.
func (f *IAM) PutInline(roleName, policyName, doc string) { f.roles[roleName].inline[policyName] = doc }

// Trust returns a role's trust policy ("" when the role does not exist).
func (f *IAM) Trust(name string) string {
	if r := f.roles[name]; r != nil {
		return r.trust
	}
	return ""
}

// Inline returns a role's inline policy ("" when absent).
func (f *IAM) Inline(roleName, policyName string) string {
	if r := f.roles[roleName]; r != nil {
		return r.inline[policyName]
	}
	return ""
}

// ProviderClientIDs returns a provider's client IDs (nil when it does not exist).
func (f *IAM) ProviderClientIDs(hostPath string) []string {
	return f.providers[arn("oidc-provider", hostPath)]
}

func (f *IAM) get(name string) (*role, error) {
	r := f.roles[name]
	if r == nil {
		return nil, notFound("role " + name)
	}
	return r, nil
}

// roleCall records op and returns the role it is about.
func (f *IAM) roleCall(op string, name *string) (*role, error) {
	if err := f.aws.call(op); err != nil {
		return nil, err
	}
	return f.get(aws.ToString(name))
}

func (f *IAM) out(name string, r *role) *iamtypes.Role {
	return &iamtypes.Role{RoleName: aws.String(name), Path: aws.String(r.path), Arn: aws.String(arn("role", strings.TrimPrefix(r.path, "/")+name)),
		AssumeRolePolicyDocument: encode(r.trust), Tags: r.tags}
}

// GetOpenIDConnectProvider implements the IAM API.
func (f *IAM) GetOpenIDConnectProvider(_ context.Context, in *iam.GetOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error) {
	if err := f.aws.call("GetOpenIDConnectProvider"); err != nil {
		return nil, err
	}
	ids, ok := f.providers[aws.ToString(in.OpenIDConnectProviderArn)]
	if !ok {
		return nil, notFound("provider")
	}
	return &iam.GetOpenIDConnectProviderOutput{ClientIDList: slices.Clone(ids), Tags: f.providerTags[aws.ToString(in.OpenIDConnectProviderArn)]}, nil
}

// CreateOpenIDConnectProvider implements the IAM API.
func (f *IAM) CreateOpenIDConnectProvider(_ context.Context, in *iam.CreateOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.CreateOpenIDConnectProviderOutput, error) {
	if err := f.aws.call("CreateOpenIDConnectProvider"); err != nil {
		return nil, err
	}
	a := arn("oidc-provider", strings.TrimRight(strings.TrimPrefix(aws.ToString(in.Url), "https://"), "/"))
	if _, ok := f.providers[a]; ok {
		return nil, &smithy.GenericAPIError{Code: "EntityAlreadyExists", Message: "Provider with url " + aws.ToString(in.Url) + " already exists."}
	}
	f.providers[a] = slices.Clone(in.ClientIDList)
	if f.providerTags == nil {
		f.providerTags = map[string][]iamtypes.Tag{}
	}
	f.providerTags[a] = in.Tags
	return &iam.CreateOpenIDConnectProviderOutput{OpenIDConnectProviderArn: aws.String(a)}, nil
}

// DeleteOpenIDConnectProvider implements the IAM API.
func (f *IAM) DeleteOpenIDConnectProvider(_ context.Context, in *iam.DeleteOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.DeleteOpenIDConnectProviderOutput, error) {
	if err := f.aws.call("DeleteOpenIDConnectProvider"); err != nil {
		return nil, err
	}
	delete(f.providers, aws.ToString(in.OpenIDConnectProviderArn))
	return &iam.DeleteOpenIDConnectProviderOutput{}, nil
}

// AddClientIDToOpenIDConnectProvider implements the IAM API.
func (f *IAM) AddClientIDToOpenIDConnectProvider(_ context.Context, in *iam.AddClientIDToOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.AddClientIDToOpenIDConnectProviderOutput, error) {
	if err := f.aws.call("AddClientIDToOpenIDConnectProvider"); err != nil {
		return nil, err
	}
	a := aws.ToString(in.OpenIDConnectProviderArn)
	f.providers[a] = append(f.providers[a], aws.ToString(in.ClientID))
	return &iam.AddClientIDToOpenIDConnectProviderOutput{}, nil
}

// RemoveClientIDFromOpenIDConnectProvider implements the IAM API.
func (f *IAM) RemoveClientIDFromOpenIDConnectProvider(_ context.Context, in *iam.RemoveClientIDFromOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.RemoveClientIDFromOpenIDConnectProviderOutput, error) {
	if err := f.aws.call("RemoveClientIDFromOpenIDConnectProvider"); err != nil {
		return nil, err
	}
	a := aws.ToString(in.OpenIDConnectProviderArn)
	f.providers[a] = slices.DeleteFunc(f.providers[a], func(id string) bool { return id == aws.ToString(in.ClientID) })
	return &iam.RemoveClientIDFromOpenIDConnectProviderOutput{}, nil
}

// GetRole implements the IAM API.
func (f *IAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	r, err := f.roleCall("GetRole", in.RoleName)
	if err != nil {
		return nil, err
	}
	return &iam.GetRoleOutput{Role: f.out(aws.ToString(in.RoleName), r)}, nil
}

// ListRoles implements the IAM API, paged.
func (f *IAM) ListRoles(_ context.Context, in *iam.ListRolesInput, _ ...func(*iam.Options)) (*iam.ListRolesOutput, error) {
	if err := f.aws.call("ListRoles"); err != nil {
		return nil, err
	}
	var all []iamtypes.Role
	for _, name := range slices.Sorted(maps.Keys(f.roles)) {
		all = append(all, *f.out(name, f.roles[name]))
	}
	items, next := page(f.aws, all, in.Marker)
	return &iam.ListRolesOutput{Roles: items, Marker: next, IsTruncated: next != nil}, nil
}

// CreateRole implements the IAM API.
func (f *IAM) CreateRole(_ context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	if err := f.aws.call("CreateRole"); err != nil {
		return nil, err
	}
	name := aws.ToString(in.RoleName)
	if f.roles[name] != nil {
		return nil, &smithy.GenericAPIError{Code: "EntityAlreadyExists", Message: "role " + name + " exists"}
	}
	path := aws.ToString(in.Path)
	if path == "" {
		path = "/"
	}
	r := &role{path: path, trust: aws.ToString(in.AssumeRolePolicyDocument), tags: in.Tags, inline: map[string]string{}}
	f.roles[name] = r
	return &iam.CreateRoleOutput{Role: f.out(name, r)}, nil
}

// DeleteRole implements the IAM API.
func (f *IAM) DeleteRole(_ context.Context, in *iam.DeleteRoleInput, _ ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	if err := f.aws.call("DeleteRole"); err != nil {
		return nil, err
	}
	delete(f.roles, aws.ToString(in.RoleName))
	return &iam.DeleteRoleOutput{}, nil
}

// UpdateAssumeRolePolicy implements the IAM API.
func (f *IAM) UpdateAssumeRolePolicy(_ context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	r, err := f.roleCall("UpdateAssumeRolePolicy", in.RoleName)
	if err != nil {
		return nil, err
	}
	r.trust = aws.ToString(in.PolicyDocument)
	return &iam.UpdateAssumeRolePolicyOutput{}, nil
}

// GetAccountSummary implements the IAM API: the trust policy quota (TrustQuota) and the role count.
func (f *IAM) GetAccountSummary(_ context.Context, _ *iam.GetAccountSummaryInput, _ ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error) {
	if err := f.aws.call("GetAccountSummary"); err != nil {
		return nil, err
	}
	q := f.TrustQuota
	if q == 0 {
		q = 2048
	}
	return &iam.GetAccountSummaryOutput{SummaryMap: map[string]int32{"AssumeRolePolicySizeQuota": int32(q), "Roles": int32(len(f.roles))}}, nil
}

// ListOpenIDConnectProviders implements the IAM API (one page, as IAM answers).
func (f *IAM) ListOpenIDConnectProviders(_ context.Context, _ *iam.ListOpenIDConnectProvidersInput, _ ...func(*iam.Options)) (*iam.ListOpenIDConnectProvidersOutput, error) {
	if err := f.aws.call("ListOpenIDConnectProviders"); err != nil {
		return nil, err
	}
	out := &iam.ListOpenIDConnectProvidersOutput{}
	for _, a := range slices.Sorted(maps.Keys(f.providers)) {
		out.OpenIDConnectProviderList = append(out.OpenIDConnectProviderList, iamtypes.OpenIDConnectProviderListEntry{Arn: aws.String(a)})
	}
	return out, nil
}
