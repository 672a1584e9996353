package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// AccountDetailsAPI is iam:GetAccountAuthorizationDetails, which audit uses at fleet size: every role of the
// account with its trust, inline policies and attached policies, and the account's own managed policies with
// their versions, 1,000 entities a page. *iam.Client implements it; without it (Inspector.AccountDetails nil)
// roles are read role by role.
type AccountDetailsAPI interface {
	GetAccountAuthorizationDetails(ctx context.Context, in *iam.GetAccountAuthorizationDetailsInput, optFns ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
}

// rolePolicies are a role's identity policy documents and attached policy names, as audit's rules want them.
type rolePolicies struct {
	docs, attachedNames []string
	err                 error
}

// auditRoles returns the roles of the caller's account whose trust names the provider and, when more
// referenced roles of that account than the threshold would each cost their own policy reads, the policies of
// every referenced role found in the account (from GetAccountAuthorizationDetails; attached AWS managed
// policies read once each). Without that API (or permission to call it) it falls back to ListRoles pages, and
// the referenced roles' policies are read role by role.
func (in *Inspector) auditRoles(ctx context.Context, provider trust.Provider, caller awsapi.Caller, referenced map[string]iamref.Role) (map[string]*doctor.AuditRole, map[string]rolePolicies, error) {
	n := 0
	for _, r := range referenced {
		if r.Account == caller.Account && r.Partition == caller.Partition {
			n++
		}
	}
	if api := in.AccountDetails; api != nil && n > in.listThreshold() {
		roles, policies, err := in.accountDetails(ctx, api, provider, referenced)
		if err == nil {
			return roles, policies, nil
		}
		in.note(fmt.Sprintf("iam:GetAccountAuthorizationDetails failed (%v): roles listed with iam:ListRoles and their policies read role by role", awsapi.Short(err)))
	}
	roles, err := in.rolesTrusting(ctx, provider)
	return roles, nil, err
}

// accountDetails reads every page of GetAccountAuthorizationDetails for roles and local managed policies.
func (in *Inspector) accountDetails(ctx context.Context, api AccountDetailsAPI, provider trust.Provider, referenced map[string]iamref.Role) (map[string]*doctor.AuditRole, map[string]rolePolicies, error) {
	roles := map[string]*doctor.AuditRole{}
	var details []types.RoleDetail
	managed := map[string]string{} // local managed policy ARN -> default version document
	pages := iam.NewGetAccountAuthorizationDetailsPaginator(api, &iam.GetAccountAuthorizationDetailsInput{
		Filter: []types.EntityType{types.EntityTypeRole, types.EntityTypeLocalManagedPolicy}, MaxItems: aws.Int32(listPageSize)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("iam:GetAccountAuthorizationDetails: %w", awsapi.Short(err))
		}
		for _, r := range page.RoleDetailList {
			in.addTrusting(roles, provider, aws.ToString(r.RoleName), aws.ToString(r.Arn), aws.ToString(r.AssumeRolePolicyDocument))
			if _, ok := referenced[aws.ToString(r.Arn)]; ok {
				details = append(details, r)
			}
		}
		for _, p := range page.Policies {
			for _, v := range p.PolicyVersionList {
				if v.IsDefaultVersion {
					managed[aws.ToString(p.Arn)] = aws.ToString(v.Document)
				}
			}
		}
	}
	// Attached policies the listing has no document for (AWS managed ones): read once each.
	var mu sync.Mutex
	others := map[string]error{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxInFlight)
	for _, r := range details {
		for _, a := range r.AttachedManagedPolicies {
			arn := aws.ToString(a.PolicyArn)
			mu.Lock()
			_, seen := others[arn]
			_, local := managed[arn]
			if !seen && !local {
				others[arn] = nil
				g.Go(func() error {
					doc, err := state.ManagedPolicyDocument(gctx, in.IAM, aws.ToString(a.PolicyArn))
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						others[arn] = err
					} else {
						managed[arn] = doc
					}
					return nil
				})
			}
			mu.Unlock()
		}
	}
	_ = g.Wait() // every goroutine returns nil: a failed read stays with the roles it concerns
	policies := map[string]rolePolicies{}
	for _, r := range details {
		var p rolePolicies
		p.docs = []string{}
		var errs []error
		add := func(doc, what string) {
			d, err := iamref.DecodePolicyDocument(doc)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", what, err))
				return
			}
			p.docs = append(p.docs, d)
		}
		for _, inline := range r.RolePolicyList {
			add(aws.ToString(inline.PolicyDocument), "inline policy "+aws.ToString(inline.PolicyName))
		}
		for _, a := range r.AttachedManagedPolicies {
			arn := aws.ToString(a.PolicyArn)
			p.attachedNames = append(p.attachedNames, aws.ToString(a.PolicyName))
			if err := others[arn]; err != nil {
				errs = append(errs, err)
				continue
			}
			add(managed[arn], "managed policy "+aws.ToString(a.PolicyName))
		}
		p.err = errors.Join(errs...)
		policies[aws.ToString(r.Arn)] = p
	}
	return roles, policies, nil
}

// addTrusting adds the role to roles when its trust names the provider; a trust that cannot be parsed but
// mentions the provider is a could-not-check.
func (in *Inspector) addTrusting(roles map[string]*doctor.AuditRole, provider trust.Provider, name, arn, document string) {
	doc, err := trust.Parse(document)
	if err != nil {
		if strings.Contains(document, provider.HostPath) {
			in.couldNotCheck("the trust policy of role "+name, err)
		}
		return
	}
	if strings.Contains(doc.String(), provider.HostPath) || doc.TrustsPodIdentity() {
		roles[arn] = &doctor.AuditRole{Name: name, ARN: arn, Trust: doc}
	}
}
