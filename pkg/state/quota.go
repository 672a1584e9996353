package state

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
)

// Defaults IAM applies when an account has asked for no increase: a role's trust policy length (characters
// without whitespace) and the number of IAM OIDC providers.
const (
	DefaultTrustSizeQuota = 2048
	DefaultProvidersQuota = 100
)

// QuotaAPI is the part of IAM that tells the account's quotas and its OIDC providers; *iam.Client implements it.
type QuotaAPI interface {
	GetAccountSummary(ctx context.Context, in *iam.GetAccountSummaryInput, optFns ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
	ListOpenIDConnectProviders(ctx context.Context, in *iam.ListOpenIDConnectProvidersInput, optFns ...func(*iam.Options)) (*iam.ListOpenIDConnectProvidersOutput, error)
}

// Quota is one figure of the account: the value used, and how it was decided. Read is Found when IAM reported it,
// Missing when the answer lacks it (the default is used) and Unknown when the read failed (the default is used);
// Note says why when it is not Found.
type Quota struct {
	Value int
	Read  Presence
	Note  string
}

// AccountQuotas are the account's figures a multi-cluster plan is checked against.
type AccountQuotas struct {
	// TrustSize is the applied quota on a role's trust policy (AssumeRolePolicySizeQuota).
	TrustSize Quota
	// Providers is how many IAM OIDC providers the account holds, ProvidersQuota how many it may hold.
	Providers      Quota
	ProvidersQuota Quota
}

// Quotas reads an account's quotas once per run and keeps them, per account. Safe for concurrent use; the zero
// value is ready.
type Quotas struct {
	mu   sync.Mutex
	read map[string]*quotaRead
}

type quotaRead struct {
	once sync.Once
	q    AccountQuotas
}

// TrustSize is the account's applied trust policy quota, read once (see Read).
func (c *Quotas) TrustSize(ctx context.Context, account string, client QuotaAPI) Quota {
	return c.Read(ctx, account, client, false).TrustSize
}

// Read returns the account's quotas, read with client the first time they are asked for (iam:GetAccountSummary;
// with providers, iam:ListOpenIDConnectProviders too). A failed read is never an error: the default is used and
// the note says why.
func (c *Quotas) Read(ctx context.Context, account string, client QuotaAPI, providers bool) AccountQuotas {
	c.mu.Lock()
	if c.read == nil {
		c.read = map[string]*quotaRead{}
	}
	key := account
	if providers {
		key += "+providers"
	}
	r := c.read[key]
	if r == nil {
		r = &quotaRead{}
		c.read[key] = r
	}
	c.mu.Unlock()
	r.once.Do(func() { r.q = ReadAccountQuotas(ctx, client, providers) })
	return r.q
}

// ReadAccountQuotas reads the account's quotas without caching (Quotas caches them).
func ReadAccountQuotas(ctx context.Context, client QuotaAPI, providers bool) AccountQuotas {
	q := AccountQuotas{
		TrustSize:      Quota{Value: DefaultTrustSizeQuota},
		ProvidersQuota: Quota{Value: DefaultProvidersQuota},
	}
	out, err := client.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		why := fmt.Sprintf("iam:GetAccountSummary failed (%v)", awsapi.Short(err))
		q.TrustSize.Note = fmt.Sprintf("%s: the trust policy quota is taken as IAM's default, %d characters", why, DefaultTrustSizeQuota)
		q.ProvidersQuota.Note = fmt.Sprintf("%s: the OIDC provider quota is taken as IAM's default, %d", why, DefaultProvidersQuota)
	} else {
		q.TrustSize = summaryValue(out.SummaryMap, "AssumeRolePolicySizeQuota", DefaultTrustSizeQuota, "the trust policy quota")
		q.ProvidersQuota = summaryValue(out.SummaryMap, "OpenIDConnectProvidersQuota", DefaultProvidersQuota, "the OIDC provider quota")
	}
	if !providers {
		return q
	}
	list, err := client.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		q.Providers = Quota{Read: Unknown, Note: fmt.Sprintf("could not count the account's OIDC providers: iam:ListOpenIDConnectProviders: %v", awsapi.Short(err))}
	} else {
		q.Providers = Quota{Value: len(list.OpenIDConnectProviderList), Read: Found}
	}
	return q
}

// summaryValue is key of GetAccountSummary's map, or def (Missing, with a note) when IAM does not report it.
func summaryValue(m map[string]int32, key string, def int, what string) Quota {
	if v, ok := m[key]; ok && v > 0 {
		return Quota{Value: int(v), Read: Found}
	}
	return Quota{Value: def, Read: Missing, Note: fmt.Sprintf("iam:GetAccountSummary does not report %s: %s is taken as IAM's default, %d", key, what, def)}
}
