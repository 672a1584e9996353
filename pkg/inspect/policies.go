package inspect

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

// simulate asks iam:SimulatePrincipalPolicy for the actions; nil when that API does not answer (as in moto),
// and the caller then reads the policies for local evaluation. A note says which.
func (in *Inspector) simulate(ctx context.Context, r iamref.Role, actions []string) map[string]bool {
	sim, err := in.clientOf(r.Account).SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(r.ARN), ActionNames: actions},
		func(o *iam.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		in.note(fmt.Sprintf("iam:SimulatePrincipalPolicy unavailable for role %s (%v): permissions evaluated locally from its policies", r.Name, awsapi.Short(err)))
		return nil
	}
	decisions := map[string]bool{}
	for _, e := range sim.EvaluationResults {
		decisions[aws.ToString(e.EvalActionName)] = e.EvalDecision == "allowed"
	}
	in.note(fmt.Sprintf("permissions of role %s decided by iam:SimulatePrincipalPolicy", r.Name))
	return decisions
}

// policyDocuments returns the role's identity policy documents (inline, and the default version of each
// attached managed policy) and the attached policies' names, reading every page. It reads as much as it can:
// the error joins every read that failed, so the caller knows the documents are incomplete.
func (in *Inspector) policyDocuments(ctx context.Context, r iamref.Role) (docs, attachedNames []string, err error) {
	name := aws.String(r.Name)
	client := in.clientOf(r.Account)
	docs = []string{}
	var errs []error
	add := func(doc *string, what string) {
		d, err := iamref.DecodePolicyDocument(aws.ToString(doc))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
			return
		}
		docs = append(docs, d)
	}
	inline := iam.NewListRolePoliciesPaginator(client, &iam.ListRolePoliciesInput{RoleName: name})
	for inline.HasMorePages() {
		page, err := inline.NextPage(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("iam:ListRolePolicies: %w", awsapi.Short(err)))
			break
		}
		for _, p := range page.PolicyNames {
			out, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: name, PolicyName: aws.String(p)})
			if err != nil {
				errs = append(errs, fmt.Errorf("iam:GetRolePolicy %s: %w", p, awsapi.Short(err)))
				continue
			}
			add(out.PolicyDocument, "inline policy "+p)
		}
	}
	attached := iam.NewListAttachedRolePoliciesPaginator(client, &iam.ListAttachedRolePoliciesInput{RoleName: name})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("iam:ListAttachedRolePolicies: %w", awsapi.Short(err)))
			break
		}
		for _, a := range page.AttachedPolicies {
			attachedNames = append(attachedNames, aws.ToString(a.PolicyName))
			pol, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: a.PolicyArn})
			if err != nil {
				errs = append(errs, fmt.Errorf("iam:GetPolicy %s: %w", aws.ToString(a.PolicyArn), awsapi.Short(err)))
				continue
			}
			v, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: a.PolicyArn, VersionId: pol.Policy.DefaultVersionId})
			if err == nil && v.PolicyVersion == nil {
				err = errors.New("no policy version")
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("iam:GetPolicyVersion %s: %w", aws.ToString(a.PolicyArn), awsapi.Short(err)))
				continue
			}
			add(v.PolicyVersion.Document, "managed policy "+aws.ToString(a.PolicyName))
		}
	}
	return docs, attachedNames, errors.Join(errs...)
}
