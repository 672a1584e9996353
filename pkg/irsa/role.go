package irsa

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// RoleSpec is what a role must grant: trust for subjects through a provider, and permissions.
type RoleSpec struct {
	Name     string
	Provider trust.Provider
	Audience string
	Subjects []string
	// Policy is the desired inline policy document ("" leaves inline policies alone).
	Policy string
	// AttachPolicyARNs are managed policies that must be attached.
	AttachPolicyARNs []string
	// TrustSizeLimit is IAM's trust policy size quota for the account.
	TrustSizeLimit int
	// IssuerHostPath tags a created role with the cluster it serves.
	IssuerHostPath string
	// Description is set on a created role.
	Description string
}

// RolePlan is what must change in IAM for a RoleSpec, read with at most three calls.
type RolePlan struct {
	Spec     RoleSpec
	ARN      string
	Exists   bool
	Managed  bool
	OldTrust *trust.Document
	NewTrust *trust.Document
	// Added are the subjects the trust does not admit yet.
	Added []string
	// PolicyChanged: the inline policy must be written; HadPolicy/OldPolicy restore it on rollback.
	PolicyChanged bool
	HadPolicy     bool
	OldPolicy     string
	// Attach are the managed policies not attached yet.
	Attach []string
}

// PlanRole reads the role and computes the change. It writes nothing.
func PlanRole(ctx context.Context, client IAMAPI, spec RoleSpec) (*RolePlan, error) {
	p := &RolePlan{Spec: spec}
	out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(spec.Name)})
	switch {
	case IsNotFound(err):
		p.OldTrust = trust.New()
	case err != nil:
		return nil, fmt.Errorf("iam:GetRole %s: %w", spec.Name, AWSError(err))
	default:
		p.Exists = true
		p.ARN = aws.ToString(out.Role.Arn)
		p.Managed = isManaged(out.Role.Tags)
		if p.OldTrust, err = trust.Parse(aws.ToString(out.Role.AssumeRolePolicyDocument)); err != nil {
			return nil, fmt.Errorf("role %s: %w", spec.Name, err)
		}
	}
	p.NewTrust = p.OldTrust.Clone()
	p.Added = p.NewTrust.AddSubjects(spec.Provider, spec.Audience, spec.Subjects...)
	if len(p.Added) > 0 {
		if err := p.NewTrust.CheckSize(spec.TrustSizeLimit); err != nil {
			return nil, fmt.Errorf("role %s: %w", spec.Name, err)
		}
	}
	if spec.Policy != "" {
		p.PolicyChanged = true
		if p.Exists {
			cur, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(spec.Name), PolicyName: aws.String(InlinePolicyName)})
			switch {
			case IsNotFound(err):
			case err != nil:
				return nil, fmt.Errorf("iam:GetRolePolicy %s/%s: %w", spec.Name, InlinePolicyName, AWSError(err))
			default:
				p.HadPolicy = true
				p.OldPolicy, _ = NormalizePolicy(aws.ToString(cur.PolicyDocument))
				want, _ := NormalizePolicy(spec.Policy)
				p.PolicyChanged = p.OldPolicy != want
			}
		}
	}
	p.Attach = slices.Clone(spec.AttachPolicyARNs)
	for _, a := range p.Attach {
		if _, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(a)}); err != nil {
			if IsNotFound(err) {
				return nil, fmt.Errorf("managed policy %s does not exist: check the ARN given to --attach-policy-arn", a)
			}
			return nil, fmt.Errorf("iam:GetPolicy %s: %w", a, AWSError(err))
		}
	}
	if p.Exists && len(p.Attach) > 0 {
		attached, err := client.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(spec.Name)})
		if err != nil {
			return nil, fmt.Errorf("iam:ListAttachedRolePolicies %s: %w", spec.Name, AWSError(err))
		}
		p.Attach = slices.DeleteFunc(p.Attach, func(a string) bool {
			return slices.ContainsFunc(attached.AttachedPolicies, func(ap iamtypes.AttachedPolicy) bool { return aws.ToString(ap.PolicyArn) == a })
		})
	}
	return p, nil
}

// Changed reports whether the plan writes anything.
func (p *RolePlan) Changed() bool {
	return !p.Exists || len(p.Added) > 0 || p.PolicyChanged || len(p.Attach) > 0
}

// Actions describes the plan as steps.
func (p *RolePlan) Actions() []Action {
	name := p.Spec.Name
	var acts []Action
	if !p.Exists {
		acts = append(acts, Action{Op: "+", Resource: "role/" + name, Detail: "create role trusting " + strings.Join(p.Added, ", "), Status: StatusPlanned})
	} else if len(p.Added) > 0 {
		acts = append(acts, Action{Op: "~", Resource: "role/" + name, Detail: "trust: add " + strings.Join(p.Added, ", "), Status: StatusPlanned})
	} else {
		acts = append(acts, Action{Op: "=", Resource: "role/" + name, Detail: "trust already admits " + strings.Join(p.Spec.Subjects, ", "), Status: StatusUnchanged})
	}
	if p.PolicyChanged {
		op := "+"
		if p.HadPolicy {
			op = "~"
		}
		acts = append(acts, Action{Op: op, Resource: "role/" + name + "/policy/" + InlinePolicyName, Detail: "inline policy " + policySummary(p.Spec.Policy), Status: StatusPlanned})
	} else if p.Spec.Policy != "" {
		acts = append(acts, Action{Op: "=", Resource: "role/" + name + "/policy/" + InlinePolicyName, Detail: "inline policy already as wanted", Status: StatusUnchanged})
	}
	for _, a := range p.Attach {
		acts = append(acts, Action{Op: "+", Resource: "role/" + name, Detail: "attach " + a, Status: StatusPlanned})
	}
	return acts
}

// policySummary lists a policy's actions for the plan.
func policySummary(doc string) string {
	d, err := trust.Parse(doc)
	if err != nil {
		return ""
	}
	var actions []string
	for _, raw := range d.Statements {
		if st, err := trust.ParseStatement(raw); err == nil {
			actions = append(actions, st.Action...)
		}
	}
	return "allowing " + strings.Join(actions, ", ")
}

// ApplyRole writes the plan, pushing on undo whatever reverses each write.
func ApplyRole(ctx context.Context, client IAMAPI, p *RolePlan, undo *Undo) error {
	name := aws.String(p.Spec.Name)
	if !p.Exists {
		out, err := client.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName:                 name,
			AssumeRolePolicyDocument: aws.String(p.NewTrust.String()),
			Description:              aws.String(p.Spec.Description),
			Tags:                     managedTags(p.Spec.IssuerHostPath),
		})
		if err != nil {
			return fmt.Errorf("iam:CreateRole %s: %w", p.Spec.Name, AWSError(err))
		}
		p.ARN = aws.ToString(out.Role.Arn)
		undo.Push("delete role "+p.Spec.Name, func(ctx context.Context) error { return DeleteRole(ctx, client, p.Spec.Name) })
	} else if len(p.Added) > 0 {
		if _, err := client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: aws.String(p.NewTrust.String())}); err != nil {
			return fmt.Errorf("iam:UpdateAssumeRolePolicy %s: %w", p.Spec.Name, AWSError(err))
		}
		old := p.OldTrust.String()
		undo.Push("restore trust of role "+p.Spec.Name, func(ctx context.Context) error {
			_, err := client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: aws.String(old)})
			return err
		})
	}
	if p.PolicyChanged {
		if _, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String(InlinePolicyName), PolicyDocument: aws.String(p.Spec.Policy)}); err != nil {
			return fmt.Errorf("iam:PutRolePolicy %s/%s: %w", p.Spec.Name, InlinePolicyName, AWSError(err))
		}
		if p.Exists {
			hadPolicy, old := p.HadPolicy, p.OldPolicy
			undo.Push("restore inline policy of role "+p.Spec.Name, func(ctx context.Context) error {
				if hadPolicy {
					_, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String(InlinePolicyName), PolicyDocument: aws.String(old)})
					return err
				}
				_, err := client.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(InlinePolicyName)})
				return err
			})
		}
	}
	for _, a := range p.Attach {
		if _, err := client.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: name, PolicyArn: aws.String(a)}); err != nil {
			return fmt.Errorf("iam:AttachRolePolicy %s %s: %w", p.Spec.Name, a, AWSError(err))
		}
		if p.Exists {
			arn := a
			undo.Push("detach "+a, func(ctx context.Context) error {
				_, err := client.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: aws.String(arn)})
				return err
			})
		}
	}
	return nil
}

// DeleteRole deletes a role after removing its inline policies and detaching its managed ones, as IAM requires.
func DeleteRole(ctx context.Context, client IAMAPI, roleName string) error {
	name := aws.String(roleName)
	inline, err := client.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: name})
	if err != nil {
		return fmt.Errorf("iam:ListRolePolicies %s: %w", roleName, AWSError(err))
	}
	for _, p := range inline.PolicyNames {
		if _, err := client.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(p)}); err != nil {
			return fmt.Errorf("iam:DeleteRolePolicy %s/%s: %w", roleName, p, AWSError(err))
		}
	}
	attached, err := client.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: name})
	if err != nil {
		return fmt.Errorf("iam:ListAttachedRolePolicies %s: %w", roleName, AWSError(err))
	}
	for _, p := range attached.AttachedPolicies {
		if _, err := client.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: p.PolicyArn}); err != nil {
			return fmt.Errorf("iam:DetachRolePolicy %s: %w", roleName, AWSError(err))
		}
	}
	if _, err := client.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name}); err != nil {
		return fmt.Errorf("iam:DeleteRole %s: %w", roleName, AWSError(err))
	}
	return nil
}
