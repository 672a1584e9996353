package setup

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// RoleSpec is what a role must grant: trust for subjects through a provider, and permissions.
type RoleSpec struct {
	Name     string
	Provider trust.Provider
	Audience string
	Subjects []string
	// Permissions are the inline policy ("" document leaves inline policies alone) and managed policies.
	Permissions Permissions
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
	case awsapi.IsNotFound(err):
		p.OldTrust = trust.New()
	case err != nil:
		return nil, fmt.Errorf("iam:GetRole %s: %w", spec.Name, awsapi.Short(err))
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
	if spec.Permissions.Document != "" {
		p.PolicyChanged = true
		if p.Exists {
			cur, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(spec.Name), PolicyName: aws.String(InlinePolicyName)})
			switch {
			case awsapi.IsNotFound(err):
			case err != nil:
				return nil, fmt.Errorf("iam:GetRolePolicy %s/%s: %w", spec.Name, InlinePolicyName, awsapi.Short(err))
			default:
				p.HadPolicy = true
				if p.OldPolicy, err = NormalizePolicy(aws.ToString(cur.PolicyDocument)); err != nil {
					return nil, fmt.Errorf("role %s inline policy %s: %w", spec.Name, InlinePolicyName, err)
				}
				p.PolicyChanged = p.OldPolicy != spec.Permissions.Document
			}
		}
	}
	for _, a := range spec.Permissions.Attach {
		if _, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(a.ARN)}); err != nil {
			if awsapi.IsNotFound(err) {
				return nil, errorf(ErrManagedPolicyMissing, "managed policy %s does not exist", a.ARN)
			}
			return nil, fmt.Errorf("iam:GetPolicy %s: %w", a.ARN, awsapi.Short(err))
		}
		p.Attach = append(p.Attach, a.ARN)
	}
	if p.Exists && len(p.Attach) > 0 {
		attached, err := attachedPolicies(ctx, client, spec.Name)
		if err != nil {
			return nil, err
		}
		p.Attach = slices.DeleteFunc(p.Attach, func(a string) bool { return slices.Contains(attached, a) })
	}
	return p, nil
}

// Changed reports whether the plan writes anything.
func (p *RolePlan) Changed() bool {
	return !p.Exists || len(p.Added) > 0 || p.PolicyChanged || len(p.Attach) > 0
}

// Actions describes the plan as steps.
func (p *RolePlan) Actions() []api.Action {
	name := p.Spec.Name
	var acts []api.Action
	if !p.Exists {
		acts = append(acts, api.Action{Op: "+", Resource: "role/" + name, Detail: "create role trusting " + strings.Join(p.Added, ", "), Status: api.StatusPlanned})
	} else if len(p.Added) > 0 {
		acts = append(acts, api.Action{Op: "~", Resource: "role/" + name, Detail: "trust: add " + strings.Join(p.Added, ", "), Status: api.StatusPlanned})
	} else {
		acts = append(acts, api.Action{Op: "=", Resource: "role/" + name, Detail: "trust already admits " + strings.Join(p.Spec.Subjects, ", "), Status: api.StatusUnchanged})
	}
	if p.PolicyChanged {
		op := "+"
		if p.HadPolicy {
			op = "~"
		}
		acts = append(acts, api.Action{Op: op, Resource: "role/" + name + "/policy/" + InlinePolicyName, Detail: "inline policy " + p.Spec.Permissions.Summary(), Status: api.StatusPlanned})
	} else if p.Spec.Permissions.Document != "" {
		acts = append(acts, api.Action{Op: "=", Resource: "role/" + name + "/policy/" + InlinePolicyName, Detail: "inline policy already as wanted", Status: api.StatusUnchanged})
	}
	for _, a := range p.Attach {
		acts = append(acts, api.Action{Op: "+", Resource: "role/" + name, Detail: "attach " + a, Status: api.StatusPlanned})
	}
	return acts
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
			return fmt.Errorf("iam:CreateRole %s: %w", p.Spec.Name, awsapi.Short(err))
		}
		p.ARN = aws.ToString(out.Role.Arn)
		undo.Push("delete role "+p.Spec.Name, func(ctx context.Context) error { return DeleteRole(ctx, client, p.Spec.Name) })
	} else if len(p.Added) > 0 {
		if _, err := client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: aws.String(p.NewTrust.String())}); err != nil {
			return fmt.Errorf("iam:UpdateAssumeRolePolicy %s: %w", p.Spec.Name, awsapi.Short(err))
		}
		old := p.OldTrust.String()
		undo.Push("restore trust of role "+p.Spec.Name, func(ctx context.Context) error {
			_, err := client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: aws.String(old)})
			return err
		})
	}
	if p.PolicyChanged {
		if _, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String(InlinePolicyName), PolicyDocument: aws.String(p.Spec.Permissions.Document)}); err != nil {
			return fmt.Errorf("iam:PutRolePolicy %s/%s: %w", p.Spec.Name, InlinePolicyName, awsapi.Short(err))
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
			return fmt.Errorf("iam:AttachRolePolicy %s %s: %w", p.Spec.Name, a, awsapi.Short(err))
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
	var inline []string
	pages := iam.NewListRolePoliciesPaginator(client, &iam.ListRolePoliciesInput{RoleName: name})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("iam:ListRolePolicies %s: %w", roleName, awsapi.Short(err))
		}
		inline = append(inline, page.PolicyNames...)
	}
	for _, p := range inline {
		if _, err := client.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(p)}); err != nil {
			return fmt.Errorf("iam:DeleteRolePolicy %s/%s: %w", roleName, p, awsapi.Short(err))
		}
	}
	attached, err := attachedPolicies(ctx, client, roleName)
	if err != nil {
		return err
	}
	for _, p := range attached {
		if _, err := client.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: aws.String(p)}); err != nil {
			return fmt.Errorf("iam:DetachRolePolicy %s: %w", roleName, awsapi.Short(err))
		}
	}
	if _, err := client.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name}); err != nil {
		return fmt.Errorf("iam:DeleteRole %s: %w", roleName, awsapi.Short(err))
	}
	return nil
}

// attachedPolicies lists the ARNs of every managed policy attached to a role, all pages.
func attachedPolicies(ctx context.Context, client IAMAPI, roleName string) ([]string, error) {
	var out []string
	pages := iam.NewListAttachedRolePoliciesPaginator(client, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(roleName)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListAttachedRolePolicies %s: %w", roleName, awsapi.Short(err))
		}
		for _, p := range page.AttachedPolicies {
			out = append(out, aws.ToString(p.PolicyArn))
		}
	}
	return out, nil
}
