package inspect

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
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
	client := in.clientOf(r.Account)
	docs = []string{}
	var errs []error
	add := func(doc string, what string) {
		d, err := iamref.DecodePolicyDocument(doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
			return
		}
		docs = append(docs, d)
	}
	inline, err := state.InlinePolicies(ctx, client, r.Name, nil)
	if err != nil {
		errs = append(errs, err)
	}
	for _, p := range inline {
		add(p.Document, "inline policy "+p.Name)
	}
	attached, err := state.AttachedPolicies(ctx, client, r.Name)
	if err != nil {
		errs = append(errs, err)
	}
	for _, a := range attached {
		attachedNames = append(attachedNames, a.Name)
		doc, err := state.ManagedPolicyDocument(ctx, client, a.ARN)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		add(doc, "managed policy "+a.Name)
	}
	return docs, attachedNames, errors.Join(errs...)
}
