package setup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// LockFunc runs fn while holding the per-role lock of roleARN (rolelock.Locker.With): every kubectl irsa run
// against the cluster takes it around a read-merge-write of the role's trust or inline policy.
type LockFunc func(ctx context.Context, roleARN string, fn func(context.Context) error) error

// Bounds of the read-back after a write (IAM is eventually consistent) and of the re-merges when another writer
// replaced our document.
const (
	readBackAttempts = 8
	readBackFirst    = 50 * time.Millisecond
	readBackMax      = time.Second
	maxMerges        = 5
)

// ErrNotVisible means a write was accepted but never became visible, or other writers kept replacing it.
var ErrNotVisible = errors.New("the change did not become visible in IAM")

// docWriter writes IAM documents of one account the one way: read, merge our delta, write, read back, and merge
// again into another writer's document.
type docWriter struct {
	iam IAMAPI
	// delay is the wait before read-back attempt n (nil: from readBackFirst, doubling, at most readBackMax).
	delay func(attempt int) time.Duration
}

// writer is the document writer of s's account.
func (s *Setup) writer() *docWriter { return &docWriter{iam: s.IAM, delay: s.ReadBackDelay} }

func (w *docWriter) wait(attempt int) time.Duration {
	if w.delay != nil {
		return w.delay(attempt)
	}
	return min(readBackFirst<<attempt, readBackMax)
}

// mutation changes a freshly read trust document and returns what it changed (nil: nothing to write). It is
// called again on every document another writer left, so it must be a delta (add or remove subjects), never
// a whole document.
type mutation func(d *trust.Document) (changed []string, err error)

// readTrust reads the role's current trust document.
func readTrust(ctx context.Context, client IAMAPI, roleName string) (*trust.Document, error) {
	role := state.ReadRole(ctx, client, roleName)
	if err := role.ReadError(); err != nil {
		return nil, err
	}
	d, err := trust.Parse(role.Trust)
	if err != nil {
		return nil, fmt.Errorf("role %s: %w", roleName, err)
	}
	return d, nil
}

// updateTrust applies mutate to the role's current trust, writes it, and reads it back until the change is
// visible. When the read-back shows a document another writer wrote (one that neither is ours nor is what we
// read), mutate is applied to that document and written again, at most maxMerges times. It returns what the
// first effective mutation changed (nil when the trust already had it: nothing is written).
func (w *docWriter) updateTrust(ctx context.Context, roleName string, mutate mutation) ([]string, error) {
	client := w.iam
	cur, err := readTrust(ctx, client, roleName)
	if err != nil {
		return nil, err
	}
	var changed []string
	for merge := 0; merge < maxMerges; merge++ {
		next := cur.Clone()
		ch, err := mutate(next)
		if err != nil {
			return changed, fmt.Errorf("role %s: %w", roleName, err)
		}
		if len(ch) == 0 {
			return changed, nil
		}
		if changed == nil {
			changed = ch
		}
		if _, err := client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(roleName), PolicyDocument: aws.String(next.String())}); err != nil {
			return changed, fmt.Errorf("iam:UpdateAssumeRolePolicy %s: %w", roleName, awsapi.Short(err))
		}
		back, visible, err := w.readBackTrust(ctx, roleName, cur, next, mutate)
		if err != nil || visible {
			return changed, err
		}
		cur = back // another writer's document: merge our delta into it again
	}
	return changed, fmt.Errorf("role %s: %w: other writers replaced the trust policy %d times; re-run to verify", roleName, ErrNotVisible, maxMerges)
}

// readBackTrust reads the trust until it holds our change (visible), or until it is a document other than the
// one we read before writing and the one we wrote (another writer's: returned for a re-merge).
func (w *docWriter) readBackTrust(ctx context.Context, roleName string, before, wrote *trust.Document, mutate mutation) (*trust.Document, bool, error) {
	for attempt := 0; attempt < readBackAttempts; attempt++ {
		back, err := readTrust(ctx, w.iam, roleName)
		if err != nil {
			return nil, false, err
		}
		if back.Equal(wrote) {
			return back, true, nil
		}
		probe := back.Clone()
		if ch, err := mutate(probe); err == nil && len(ch) == 0 && !back.Equal(before) {
			return back, true, nil // someone merged on top of ours and kept our change
		}
		if !back.Equal(before) {
			return back, false, nil
		}
		select { // IAM still serves the old document: wait
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-time.After(w.wait(attempt)):
		}
	}
	return nil, false, fmt.Errorf("role %s: %w after %d reads; re-run to verify", roleName, ErrNotVisible, readBackAttempts)
}

// chainMutations applies ms in order and reports everything they changed.
func chainMutations(ms ...mutation) mutation {
	return func(d *trust.Document) ([]string, error) {
		var all []string
		for _, m := range ms {
			ch, err := m(d)
			if err != nil {
				return nil, err
			}
			all = append(all, ch...)
		}
		return all, nil
	}
}

// addSubjectsMutation adds subjects through our statement; a hand-edited statement with our Sid is reported as
// a *ForeignShapeError. With check set, the merged trust must admit every subject (a foreign Deny refuses).
func addSubjectsMutation(p trust.Provider, audience string, subjects []string, sizeLimit int) mutation {
	return func(d *trust.Document) ([]string, error) {
		added, err := d.AddSubjectsChecked(p, audience, subjects...)
		if err != nil {
			return nil, err
		}
		if err := checkNotDenied(d, p, audience, subjects); err != nil {
			return nil, err
		}
		if len(added) > 0 && sizeLimit > 0 {
			if err := d.CheckSize(sizeLimit); err != nil {
				return nil, err
			}
		}
		return added, nil
	}
}

// removeSubjectsMutation removes subjects from our statement only.
func removeSubjectsMutation(p trust.Provider, audience string, subjects []string) mutation {
	return func(d *trust.Document) ([]string, error) {
		return d.RemoveSubjects(p, audience, subjects...)
	}
}

// addPodIdentityMutation adds our Pod Identity statement unless the trust already admits the service (r: the
// session tags known); the result must fit sizeLimit.
func addPodIdentityMutation(r trust.PodIdentityRequest, sizeLimit int) mutation {
	return func(d *trust.Document) ([]string, error) {
		changed, err := d.AddPodIdentity(r)
		if err != nil || !changed {
			return nil, err
		}
		if sizeLimit > 0 {
			if err := d.CheckSize(sizeLimit); err != nil {
				return nil, err
			}
		}
		return []string{trust.ServicePodIdentity}, nil
	}
}

// removePodIdentityMutation removes our Pod Identity statement and nothing else (ErrEmptyPolicy when it is the
// last statement).
func removePodIdentityMutation(d *trust.Document) ([]string, error) {
	removed, err := d.RemovePodIdentity()
	if err != nil || !removed {
		return nil, err
	}
	return []string{trust.ServicePodIdentity}, nil
}

// ErrDenied: a Deny statement of the role's trust still refuses the subject after the merge.
var ErrDenied = errors.New("a Deny statement of the trust policy refuses the subject")

// checkNotDenied refuses a merged trust whose Deny statements certainly refuse one of the subjects.
func checkNotDenied(d *trust.Document, p trust.Provider, audience string, subjects []string) error {
	for _, sub := range subjects {
		for _, den := range d.DeniedBy(trust.Claims{ProviderARN: p.ARN, HostPath: p.HostPath, Subject: sub, Audience: audience}) {
			if !den.Certain {
				continue
			}
			name := fmt.Sprintf("statement %d", den.Index)
			if den.Sid != "" {
				name = fmt.Sprintf("statement %d (Sid %q)", den.Index, den.Sid)
			}
			return errorf(ErrDenied, "trust %s denies %s even after adding it: remove or narrow that Deny first (nothing was written)", name, sub)
		}
	}
	return nil
}

// explainTrustError turns trust-library errors into one-line errors that say what to do.
func explainTrustError(roleName string, err error) error {
	var fs *trust.ForeignShapeError
	switch {
	case errors.As(err, &fs):
		return fmt.Errorf("role %s: trust statement with Sid %q was changed by hand and is no longer kubectl irsa's: rename its Sid (or delete it) in the role's trust policy, then re-run", roleName, fs.Sid)
	case errors.Is(err, trust.ErrEmptyPolicy):
		return errorf(ErrLastSubject, "role %s: this is the last subject its trust admits and IAM refuses an empty trust policy: nothing was written", roleName)
	}
	return err
}
