package setup

import (
	"context"
	"errors"
	"fmt"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// TrustQuota is the size a role's trust policy is checked against before any write, and where it comes from.
type TrustQuota struct {
	// Size is in characters without whitespace, as IAM counts them.
	Size int
	// Source says where Size comes from: "the account's quota" (iam:GetAccountSummary), "the given limit" (an
	// override), or "IAM's default quota" (the account's could not be read; Note says why).
	Source string
	Note   string
}

// TrustQuotaFor is the trust quota of account: override when > 0, else the account's applied quota read once per
// run (Setup.Quotas) from the IAM client of s (which must act in account); IAM's default, with a note, when it
// cannot be read. It never fails: a quota that cannot be read is "could not check", and the default applies.
func (s *Setup) TrustQuotaFor(ctx context.Context, account string, override int) TrustQuota {
	if override > 0 {
		return TrustQuota{Size: override, Source: "the given limit"}
	}
	quotas := s.Quotas
	if quotas == nil {
		quotas = &state.Quotas{}
	}
	q := quotas.TrustSize(ctx, account, s.IAM)
	if q.Read == state.Found {
		return TrustQuota{Size: q.Value, Source: "the account's quota"}
	}
	return TrustQuota{Size: q.Value, Source: "IAM's default quota", Note: q.Note}
}

// ErrTrustTooLarge: the trust policy a plan would write is over the trust quota applied to the account.
var ErrTrustTooLarge = errors.New("trust policy would exceed the account's quota")

// TrustTooLargeError is a refused trust change: the document it would leave, broken down, against the quota.
type TrustTooLargeError struct {
	Role   string
	Quota  TrustQuota
	Budget trust.Budget
}

func (e *TrustTooLargeError) Error() string {
	b := e.Budget
	return fmt.Sprintf("role %s: its trust policy would be %d characters (without whitespace), over %s of %d, so nothing was written "+
		"(%d OIDC provider statement(s) %d characters, Pod Identity %d, other statements %d); options: "+
		"our statements are already packed, one per provider, so pack or drop the other statements by hand; "+
		"request a quota increase (Service Quotas, IAM \"Role trust policy length\"); "+
		"move the role's ServiceAccounts to EKS Pod Identity (kubectl irsa migrate), whose one statement serves every cluster; "+
		"or split the role, giving some ServiceAccounts or clusters a role of their own",
		e.Role, b.Size, e.Quota.Source, e.Quota.Size, len(b.Providers), providersSize(b), b.PodIdentity, b.Foreign)
}

func (e *TrustTooLargeError) Unwrap() error { return ErrTrustTooLarge }

func providersSize(b trust.Budget) int {
	n := 0
	for _, p := range b.Providers {
		n += p.Size
	}
	return n
}

// CheckTrustFits is the one size check of a trust change, for every planner (link, role create, apply,
// retarget): it returns a *TrustTooLargeError (ErrTrustTooLarge) when next, the trust the plan would write to
// role, is over quota. Call it before the first write of the plan; the writer checks again under the lock.
func CheckTrustFits(role string, next *trust.Document, quota TrustQuota) error {
	if next.Size() <= quota.Size {
		return nil
	}
	return &TrustTooLargeError{Role: role, Quota: quota, Budget: next.Budget(quota.Size)}
}

// tooLarge turns the size error of a trust merge into a TrustTooLargeError for next (the merged document).
func tooLarge(role string, next *trust.Document, quota TrustQuota, err error) error {
	var se *trust.SizeError
	if errors.As(err, &se) {
		if tl := CheckTrustFits(role, next, quota); tl != nil {
			return tl
		}
	}
	return err
}

// planRoleInQuota plans spec against IAM's default trust quota (or the override, when > 0), and reads the
// account's applied quota only when the trust would not fit the default: a quota is never below IAM's default,
// so a trust within it fits every account, and most runs spend no call on the quota.
func (s *Setup) planRoleInQuota(ctx context.Context, account string, override int, spec RoleSpec) (*RolePlan, TrustQuota, error) {
	spec.TrustQuota = TrustQuota{Size: state.DefaultTrustSizeQuota, Source: "IAM's default quota"}
	if override > 0 {
		spec.TrustQuota = s.TrustQuotaFor(ctx, account, override)
	}
	plan, err := PlanRole(ctx, s.IAM, spec)
	if override > 0 || !errors.Is(err, ErrTrustTooLarge) {
		return plan, spec.TrustQuota, err
	}
	applied := s.TrustQuotaFor(ctx, account, 0)
	if applied.Size <= spec.TrustQuota.Size {
		var tl *TrustTooLargeError
		if errors.As(err, &tl) {
			tl.Quota = applied
		}
		return nil, applied, err
	}
	spec.TrustQuota = applied
	plan, err = PlanRole(ctx, s.IAM, spec)
	return plan, applied, err
}

// CheckTrustInQuota is the size check planners call before their first write, with next the trust document the
// plan would leave on role (in account): against override when > 0; else against IAM's default quota and, only
// when next does not fit it, against the account's applied quota (iam:GetAccountSummary, read once per run
// through Setup.Quotas). It returns the quota that decided, and a *TrustTooLargeError (ErrTrustTooLarge) naming
// the options when next does not fit.
func (s *Setup) CheckTrustInQuota(ctx context.Context, account string, override int, role string, next *trust.Document) (TrustQuota, error) {
	q := TrustQuota{Size: state.DefaultTrustSizeQuota, Source: "IAM's default quota"}
	if override > 0 {
		q = s.TrustQuotaFor(ctx, account, override)
	}
	if err := CheckTrustFits(role, next, q); err == nil || override > 0 {
		return q, err
	}
	q = s.TrustQuotaFor(ctx, account, 0)
	return q, CheckTrustFits(role, next, q)
}
