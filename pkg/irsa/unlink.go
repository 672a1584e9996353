package irsa

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// UnlinkRequest is what `kubectl irsa unlink` is asked to do.
type UnlinkRequest struct {
	Namespace, ServiceAccount string
	// DeleteRole deletes the role when kubectl irsa created it and no other subject remains.
	DeleteRole bool
	DryRun     bool
}

// Unlink removes the annotation and only this ServiceAccount's subject from the role's trust; statements that
// are not ours are never touched. IAM is written first; if the annotation cannot be removed, the trust is
// restored.
func (l *Linker) Unlink(ctx context.Context, req UnlinkRequest) (*Result, error) {
	if err := ValidateNamespace(req.Namespace); err != nil {
		return nil, err
	}
	if err := ValidateServiceAccountName(req.ServiceAccount); err != nil {
		return nil, err
	}
	sa, err := readServiceAccount(ctx, l.Kube, req.Namespace, req.ServiceAccount, false)
	if err != nil {
		return nil, err
	}
	if sa.RoleARN == "" {
		return nil, fmt.Errorf("serviceaccount %s/%s has no %s annotation: nothing to unlink", req.Namespace, req.ServiceAccount, RoleARNAnnotation)
	}
	role, err := ParseRoleARN(sa.RoleARN)
	if err != nil {
		return nil, fmt.Errorf("serviceaccount %s/%s: %w; fix it with kubectl irsa annotate --overwrite", req.Namespace, req.ServiceAccount, err)
	}
	if !req.DryRun {
		if err := checkCanWrite(ctx, l.Kube, req.Namespace, req.ServiceAccount, false); err != nil {
			return nil, err
		}
	}
	provider := trust.NewProvider(role.Partition, role.Account, l.Issuer)
	subject := trust.Subject(req.Namespace, req.ServiceAccount)
	res := NewResult("UnlinkResult")
	res.Issuer = provider.HostPath
	res.DryRun = req.DryRun
	res.ServiceAccounts = []ServiceAccountRef{{Namespace: sa.Namespace, Name: sa.Name, Subject: subject, Audience: sa.Audience}}
	res.Role = &RoleInfo{Name: role.Name, ARN: role.ARN}

	out, err := l.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role.Name)})
	var oldTrust, newTrust *trust.Document
	removed, still := false, false
	switch {
	case IsNotFound(err):
		res.Hints = append(res.Hints, fmt.Sprintf("role %s does not exist; only the annotation is removed", role.Name))
	case err != nil:
		return nil, fmt.Errorf("iam:GetRole %s: %w", role.Name, AWSError(err))
	default:
		res.Role.Exists = true
		res.Role.Managed = isManaged(out.Role.Tags)
		if oldTrust, err = trust.Parse(aws.ToString(out.Role.AssumeRolePolicyDocument)); err != nil {
			return nil, fmt.Errorf("role %s: %w", role.Name, err)
		}
		newTrust = oldTrust.Clone()
		removed, still = newTrust.RemoveSubject(provider, sa.Audience, subject)
	}
	if still {
		res.Hints = append(res.Hints, fmt.Sprintf("role %s still admits %s through a trust statement kubectl irsa did not write; left as is", role.Name, subject))
	}
	deleteRole := false
	if req.DeleteRole && res.Role.Exists {
		switch {
		case !res.Role.Managed:
			return nil, fmt.Errorf("role %s was not created by kubectl irsa (no %s tag): not deleting it; drop --delete-role", role.Name, ManagedByTagKey)
		case len(newTrust.Statements) > 0:
			return nil, fmt.Errorf("role %s still trusts other principals (%v): not deleting it; drop --delete-role", role.Name, remainingSubjects(newTrust))
		}
		deleteRole = true
	}

	if removed && !deleteRole {
		res.Actions = append(res.Actions, Action{Op: "~", Resource: "role/" + role.Name, Detail: "trust: remove " + subject, Status: StatusPlanned})
	}
	if deleteRole {
		res.Actions = append(res.Actions, Action{Op: "-", Resource: "role/" + role.Name, Detail: "delete role (inline policies, managed policies detached)", Status: StatusPlanned})
	}
	res.Actions = append(res.Actions, Action{Op: "-", Resource: "serviceaccount/" + sa.Namespace + "/" + sa.Name, Detail: "remove annotation " + RoleARNAnnotation, Status: StatusPlanned})
	if req.DryRun {
		return res, nil
	}

	undo := &Undo{}
	fail := func(err error) (*Result, error) { return undo.fail(ctx, res, err) }
	next := 0
	if removed && !deleteRole {
		if _, err := l.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(role.Name), PolicyDocument: aws.String(newTrust.String())}); err != nil {
			return fail(fmt.Errorf("iam:UpdateAssumeRolePolicy %s: %w", role.Name, AWSError(err)))
		}
		old := oldTrust.String()
		undo.Push("restore trust of role "+role.Name, func(ctx context.Context) error {
			_, err := l.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(role.Name), PolicyDocument: aws.String(old)})
			return err
		})
		res.Actions[next].Status = StatusDone
		next++
	}
	// The annotation goes before a role deletion, which cannot be undone.
	if err := setRoleAnnotation(ctx, l.Kube, sa.Namespace, sa.Name, "", false); err != nil {
		return fail(err)
	}
	res.Actions[len(res.Actions)-1].Status = StatusDone
	if deleteRole {
		if err := DeleteRole(ctx, l.IAM, role.Name); err != nil {
			return res, fmt.Errorf("annotation removed, but %w: delete the role by hand", err)
		}
		res.Actions[next].Status = StatusDone
	}
	return res, nil
}

// remainingSubjects names what a trust policy still admits, for the refusal message.
func remainingSubjects(d *trust.Document) []string {
	var out []string
	for _, raw := range d.Statements {
		st, err := trust.ParseStatement(raw)
		if err != nil {
			continue
		}
		found := false
		for _, keys := range st.Condition {
			for key, values := range keys {
				if len(key) > 4 && key[len(key)-4:] == ":sub" {
					out = append(out, values...)
					found = true
				}
			}
		}
		if !found {
			out = append(out, "a statement without a sub condition")
		}
	}
	return out
}
