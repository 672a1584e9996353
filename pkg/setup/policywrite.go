package setup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
)

// isAlreadyExists reports IAM's EntityAlreadyExists.
func isAlreadyExists(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "EntityAlreadyExists"
}

// inlinePolicy is the current inline policy kubectl-irsa of a role: had is false when there is none.
type inlinePolicy struct {
	had bool
	doc string
}

func readInlinePolicy(ctx context.Context, client IAMAPI, roleName string) (inlinePolicy, error) {
	out, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(InlinePolicyName)})
	switch {
	case awsapi.IsNotFound(err):
		return inlinePolicy{}, nil
	case err != nil:
		return inlinePolicy{}, fmt.Errorf("iam:GetRolePolicy %s/%s: %w", roleName, InlinePolicyName, awsapi.Short(err))
	}
	doc, err := NormalizePolicy(aws.ToString(out.PolicyDocument))
	if err != nil {
		return inlinePolicy{}, fmt.Errorf("role %s inline policy %s: %w", roleName, InlinePolicyName, err)
	}
	return inlinePolicy{had: true, doc: doc}, nil
}

// applyPolicy writes the inline policy (under the role's lock, by ApplyRole): the current policy is read again,
// the write is read back until visible (rewritten, bounded, when another writer replaced it), and the undo
// restores what was read only while the policy is still what this run wrote.
func (p *RolePlan) applyPolicy(ctx context.Context, client IAMAPI, undo *Undo, created bool) error {
	name, want := p.Spec.Name, p.Spec.Permissions.Document
	var before inlinePolicy // a role this run created has no inline policy yet
	if !created {
		var err error
		if before, err = readInlinePolicy(ctx, client, name); err != nil {
			return err
		}
	}
	if before.had && before.doc == want {
		return nil
	}
	if err := putPolicyVisible(ctx, client, name, want, before); err != nil {
		return err
	}
	if created {
		return nil // deleting the role removes it
	}
	undo.Push("restore inline policy of role "+name, func(ctx context.Context) error {
		return p.lock(ctx, func(ctx context.Context) error {
			cur, err := readInlinePolicy(ctx, client, name)
			switch {
			case err != nil:
				return err
			case !cur.had || cur.doc != want:
				return Kept(fmt.Sprintf("inline policy %s of role %s was changed by another writer since: left as is", InlinePolicyName, name))
			case before.had:
				_, err = client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(InlinePolicyName), PolicyDocument: aws.String(before.doc)})
			default:
				_, err = client.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(InlinePolicyName)})
			}
			return err
		})
	})
	return nil
}

// putPolicyVisible writes the inline policy and reads it back until IAM serves it.
func putPolicyVisible(ctx context.Context, client IAMAPI, name, want string, before inlinePolicy) error {
	for merge := 0; merge < maxMerges; merge++ {
		if _, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(InlinePolicyName), PolicyDocument: aws.String(want)}); err != nil {
			return fmt.Errorf("iam:PutRolePolicy %s/%s: %w", name, InlinePolicyName, awsapi.Short(err))
		}
		replaced := false
		for attempt := 0; attempt < readBackAttempts && !replaced; attempt++ {
			cur, err := readInlinePolicy(ctx, client, name)
			if err != nil {
				return err
			}
			if cur.had && cur.doc == want {
				return nil
			}
			if cur != before {
				replaced = true // another writer's policy: write ours again
				continue
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(readBackDelay(attempt)):
			}
		}
		if !replaced {
			return fmt.Errorf("role %s inline policy %s: %w after %d reads; re-run to verify", name, InlinePolicyName, ErrNotVisible, readBackAttempts)
		}
	}
	return fmt.Errorf("role %s inline policy %s: %w: other writers replaced it %d times; re-run to verify", name, InlinePolicyName, ErrNotVisible, maxMerges)
}
