package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
)

// isAlreadyExists reports IAM's EntityAlreadyExists.
func isAlreadyExists(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "EntityAlreadyExists"
}

// readInlinePolicy reads the role's inline policy kubectl-irsa, normalised ("" when there is none).
func readInlinePolicy(ctx context.Context, client IAMAPI, roleName string) (string, error) {
	raw, found, err := state.InlinePolicy(ctx, client, roleName, InlinePolicyName)
	if err != nil || !found {
		return "", err
	}
	doc, err := NormalizePolicy(raw)
	if err != nil {
		return "", fmt.Errorf("role %s inline policy %s: %w", roleName, InlinePolicyName, err)
	}
	return doc, nil
}

// writeInlinePolicy puts doc as the inline policy, or deletes the policy when doc is "" (no statement left).
func writeInlinePolicy(ctx context.Context, client IAMAPI, roleName, doc string) error {
	if doc == "" {
		_, err := client.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(InlinePolicyName)})
		if err != nil && !awsapi.IsNotFound(err) {
			return fmt.Errorf("iam:DeleteRolePolicy %s/%s: %w", roleName, InlinePolicyName, awsapi.Short(err))
		}
		return nil
	}
	if _, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(InlinePolicyName), PolicyDocument: aws.String(doc)}); err != nil {
		return fmt.Errorf("iam:PutRolePolicy %s/%s: %w", roleName, InlinePolicyName, awsapi.Short(err))
	}
	return nil
}

// policyMutation turns the current inline policy (normalised, "" for none) into the wanted one. It is applied
// again to every document another writer left, so it must be a delta (one owner's statements), never a whole
// document.
type policyMutation func(doc string) (string, error)

// noSizeCheck: setOwnedMutation does not check the result's size (it only removes or restores statements).
var noSizeCheck = otherInline{size: -1}

// ownedWant is one owner's statements (want, each with the owner's Sids; none: the owner's are removed).
type ownedWant struct {
	sid  string
	want []json.RawMessage
}

// setOwnedMutation replaces owner's statements with want (none: removed), keeping every other statement. A
// result that, with the role's other inline policies (other), is over IAM's size limit is refused, unless other
// is noSizeCheck.
func setOwnedMutation(roleName, owner string, want []json.RawMessage, other otherInline) policyMutation {
	return setOwnersMutation(roleName, []ownedWant{{sid: owner, want: want}}, other)
}

// setOwnersMutation is setOwnedMutation for several owners at once: one write for all of them.
func setOwnersMutation(roleName string, owners []ownedWant, other otherInline) policyMutation {
	return func(doc string) (string, error) {
		next := doc
		for _, o := range owners {
			var err error
			if next, err = setOwned(next, o.sid, o.want); err != nil {
				return "", fmt.Errorf("role %s inline policy %s: %w", roleName, InlinePolicyName, err)
			}
		}
		if other.size >= 0 && next != doc && next != "" {
			if err := checkPolicySize(roleName, next, other); err != nil {
				return "", err
			}
		}
		return next, nil
	}
}

// updatePolicy applies mutate to cur (the policy just read under the role's lock), writes the result, and reads
// it back until IAM serves it. When the read-back shows a document another writer wrote (neither ours nor the
// one read), mutate is applied to that document and written again, at most maxMerges times. It reports whether
// anything was written (false: the policy already was as wanted).
func (w *docWriter) updatePolicy(ctx context.Context, roleName, cur string, mutate policyMutation) (bool, error) {
	client := w.iam
	wrote := false
	for merge := 0; merge < maxMerges; merge++ {
		next, err := mutate(cur)
		if err != nil || next == cur {
			return wrote, err
		}
		if err := writeInlinePolicy(ctx, client, roleName, next); err != nil {
			return wrote, err
		}
		wrote = true
		back, visible, err := w.readBackPolicy(ctx, roleName, cur, next, mutate)
		if err != nil || visible {
			return wrote, err
		}
		cur = back // another writer's document: merge our delta into it again
	}
	return wrote, fmt.Errorf("role %s inline policy %s: %w: other writers replaced it %d times; re-run to verify", roleName, InlinePolicyName, ErrNotVisible, maxMerges)
}

// readBackPolicy reads the policy until it holds our change (visible), or until it is a document other than the
// one read before writing and the one written (another writer's: returned for a re-merge).
func (w *docWriter) readBackPolicy(ctx context.Context, roleName, before, wrote string, mutate policyMutation) (string, bool, error) {
	for attempt := 0; attempt < readBackAttempts; attempt++ {
		back, err := readInlinePolicy(ctx, w.iam, roleName)
		if err != nil {
			return "", false, err
		}
		if back == wrote {
			return back, true, nil
		}
		if back != before {
			if probe, err := mutate(back); err == nil && probe == back {
				return back, true, nil // someone merged on top of ours and kept our change
			}
			return back, false, nil
		}
		select { // IAM still serves the old document: wait
		case <-ctx.Done():
			return "", false, ctx.Err()
		case <-time.After(w.wait(attempt)):
		}
	}
	return "", false, fmt.Errorf("role %s inline policy %s: %w after %d reads; re-run to verify", roleName, InlinePolicyName, ErrNotVisible, readBackAttempts)
}

// sameStatements reports whether two lists of statements mean the same (compared normalised).
func sameStatements(a, b []json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, errX := NormalizePolicy(string(a[i]))
		y, errY := NormalizePolicy(string(b[i]))
		if errX != nil || errY != nil || x != y {
			return false
		}
	}
	return true
}

// policyStep merges this run's statements (of every owner of the spec) into the inline policy (the executor
// holds the role's lock). The undo puts back the statements each owner had before, only while the policy still
// holds what this run wrote for that owner; every other statement, including those written since, is kept.
func (p *RolePlan) policyStep(w *docWriter, action api.Action) *steps.Step {
	name := p.Spec.Name
	var wants, had []ownedWant
	st := &steps.Step{Action: action}
	st.Do = func(ctx context.Context) error {
		cur, err := p.policyUnderLock(ctx, w.iam)
		if err != nil {
			return err
		}
		if wants, err = p.Spec.wants(); err != nil {
			return err
		}
		had = nil
		for _, o := range wants {
			h, err := ownedIn(cur, o.sid)
			if err != nil {
				return fmt.Errorf("role %s inline policy %s: %w", name, InlinePolicyName, err)
			}
			had = append(had, ownedWant{sid: o.sid, want: h})
		}
		if len(had) == 1 {
			st.UndoWhat = restoreWhat(name, had[0].sid, had[0].want)
		} else {
			st.UndoWhat = fmt.Sprintf("restore the statements of %d ServiceAccounts in inline policy %s of role %s", len(had), InlinePolicyName, name)
		}
		wrote, err := w.updatePolicy(ctx, name, cur, setOwnersMutation(name, wants, p.other))
		if err == nil && !wrote {
			return steps.ErrUnchanged
		}
		return err
	}
	st.Undo = func(ctx context.Context) error { return w.restoreOwners(ctx, name, wants, had) }
	return st
}

// removeOwnedStep removes owner's statements from the inline policy of role name (deleted with its last
// statement); the undo puts them back while nobody changed them since.
func removeOwnedStep(w *docWriter, name, owner string, action api.Action) *steps.Step {
	var removed []json.RawMessage
	st := &steps.Step{Action: action}
	st.Do = func(ctx context.Context) error {
		cur, err := readInlinePolicy(ctx, w.iam, name)
		if err != nil {
			return err
		}
		if removed, err = ownedIn(cur, owner); err != nil {
			return fmt.Errorf("role %s inline policy %s: %w", name, InlinePolicyName, err)
		}
		st.UndoWhat = restoreWhat(name, owner, removed)
		wrote, err := w.updatePolicy(ctx, name, cur, setOwnedMutation(name, owner, nil, noSizeCheck))
		if err == nil && !wrote {
			return steps.ErrUnchanged
		}
		return err
	}
	st.Undo = func(ctx context.Context) error { return w.restoreOwned(ctx, name, owner, nil, removed) }
	return st
}

// restoreWhat names the undo of a change to owner's statements.
func restoreWhat(roleName, owner string, had []json.RawMessage) string {
	if len(had) == 0 {
		return "remove statement " + owner + " from inline policy " + InlinePolicyName + " of role " + roleName
	}
	return "restore statement " + owner + " of inline policy " + InlinePolicyName + " of role " + roleName
}

// restoreOwned puts back owner's statements had (none: removed, and the policy deleted with its last statement)
// while the current policy still holds exactly what was written (wrote); otherwise it leaves the policy as is.
func (w *docWriter) restoreOwned(ctx context.Context, name, owner string, wrote, had []json.RawMessage) error {
	return w.restoreOwners(ctx, name, []ownedWant{{sid: owner, want: wrote}}, []ownedWant{{sid: owner, want: had}})
}

// restoreOwners is restoreOwned for several owners in one write: wrote[i] and had[i] are owner i's statements
// as written and as they were before. An owner whose statements another writer changed since is left as is.
func (w *docWriter) restoreOwners(ctx context.Context, name string, wrote, had []ownedWant) error {
	cur, err := readInlinePolicy(ctx, w.iam, name)
	if err != nil {
		return err
	}
	var restore []ownedWant
	var kept []string
	for i, o := range wrote {
		now, err := ownedIn(cur, o.sid)
		if err != nil {
			return err
		}
		if !sameStatements(now, o.want) {
			kept = append(kept, o.sid)
			continue
		}
		restore = append(restore, had[i])
	}
	if len(restore) > 0 {
		if _, err := w.updatePolicy(ctx, name, cur, setOwnersMutation(name, restore, noSizeCheck)); err != nil {
			return err
		}
	}
	if len(kept) > 0 {
		return Kept(fmt.Sprintf("statement %s of inline policy %s of role %s was changed by another writer since: left as is", strings.Join(kept, ", "), InlinePolicyName, name))
	}
	return nil
}

// otherInline is what the role's inline policies other than kubectl-irsa take of IAM's size limit.
type otherInline struct {
	// size is their total size as IAM counts it (0: none, or not read; -1: noSizeCheck).
	size int
	// names are the policies counted.
	names []string
}

// readOtherInline lists the role's inline policies (all pages) and reads the size of every one but kubectl-irsa,
// once per plan: only before writing kubectl-irsa to a role this run did not create (a created role has none, and
// a run that writes no policy does not pay the calls). When IAM refuses a read, the total is not checked and a
// note says so: IAM itself refuses a PutRolePolicy over the limit.
func (p *RolePlan) readOtherInline(ctx context.Context, client IAMAPI) error {
	if p.otherRead {
		return nil
	}
	name := p.Spec.Name
	other, err := otherInlineSize(ctx, client, name)
	switch {
	case isAccessDenied(err):
		p.Notes = append(p.Notes, fmt.Sprintf("could not check the size of the other inline policies of role %s (%v): IAM refuses the policy if all of them together exceed %d characters", name, awsapi.Short(err), MaxInlinePolicySize))
	case err != nil:
		return err
	default:
		p.other = other
	}
	p.otherRead = true
	return nil
}

// otherInlineSize totals the size of the role's inline policies other than kubectl-irsa.
func otherInlineSize(ctx context.Context, client IAMAPI, roleName string) (otherInline, error) {
	policies, err := state.InlinePolicies(ctx, client, roleName, func(n string) bool { return n == InlinePolicyName })
	if err != nil {
		return otherInline{}, err
	}
	var other otherInline
	for _, pol := range policies {
		doc, err := NormalizePolicy(pol.Document)
		if err != nil {
			return otherInline{}, fmt.Errorf("role %s inline policy %s: %w", roleName, pol.Name, err)
		}
		size, err := PolicySize(doc)
		if err != nil {
			return otherInline{}, fmt.Errorf("role %s inline policy %s: %w", roleName, pol.Name, err)
		}
		other.size += size
		other.names = append(other.names, pol.Name)
	}
	return other, nil
}
