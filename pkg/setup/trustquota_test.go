package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// fullRole is a role whose trust admits n made-up ServiceAccounts of this cluster's provider, of size Size().
func fullRole(cloud *fakeaws.AWS, n int) *trust.Document {
	d := trust.New()
	var subs []string
	for i := range n {
		subs = append(subs, trust.Subject("team", fmt.Sprintf("sa-%03d", i)))
	}
	d.AddSubjects(trust.NewProvider(fakeaws.Partition, fakeaws.Account, testIssuer), "sts.amazonaws.com", subs...)
	cloud.IAM.AddProvider(testHostPath, "sts.amazonaws.com")
	cloud.IAM.AddRole("", "irsa-role", d.String())
	return d
}

// TestLinkRefusedOverQuota: a link that would push the trust over the account's quota is refused at plan time
// with the options and the breakdown; nothing is written.
func TestLinkRefusedOverQuota(t *testing.T) {
	for _, tc := range []struct {
		name     string
		quota    int
		override int
		fits     bool
		source   string
	}{
		{name: "default quota refuses", quota: 0, fits: false, source: "the account's quota of 2048"},
		{name: "raised quota links", quota: 4096, fits: true},
		{name: "override below the account's refuses", quota: 4096, override: 2048, fits: false, source: "the given limit of 2048"},
		{name: "summary unreadable: default applies", quota: -1, fits: false, source: "IAM's default quota of 2048"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cloud := fakeaws.New()
			if tc.quota > 0 {
				cloud.IAM.TrustQuota = tc.quota
			}
			if tc.quota < 0 {
				cloud.Fail("GetAccountSummary", fakeaws.AccessDenied("GetAccountSummary"))
			}
			d := fullRole(cloud, 45)
			if d.Size() > 2048 || d.Size() < 2048-45 {
				t.Fatalf("fixture trust is %d characters: want it just under 2048", d.Size())
			}
			s := newSetup(fakeKube(false, nil), cloud)
			s.Quotas = &state.Quotas{}
			req := seedRequest
			req.TrustSizeLimit = tc.override
			plan, err := s.PlanLink(context.Background(), req)
			if tc.fits {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := plan.Apply(context.Background()); err != nil {
					t.Fatal(err)
				}
				if got := trustOf(t, cloud); got.Size() <= 2048 {
					t.Errorf("trust after link is %d characters, want over 2048", got.Size())
				}
				return
			}
			var tl *TrustTooLargeError
			if !errors.As(err, &tl) || !errors.Is(err, ErrTrustTooLarge) {
				t.Fatalf("err = %v, want a TrustTooLargeError", err)
			}
			msg := err.Error()
			for _, want := range []string{tc.source, "request a quota increase", "Pod Identity", "split the role", "nothing was written"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q: %s", want, msg)
				}
			}
			if len(tl.Budget.Providers) != 1 || tl.Budget.Size <= 2048 {
				t.Errorf("budget = %+v", tl.Budget)
			}
			if w := cloud.Writes(); len(w) != 0 {
				t.Errorf("writes = %v, want none", w)
			}
		})
	}
}

// TestQuotaReadOnlyWhenNeeded: a trust within IAM's default never costs a GetAccountSummary; one over it reads
// the quota once per run however many plans ask.
func TestQuotaReadOnlyWhenNeeded(t *testing.T) {
	cloud := fakeaws.New()
	s := newSetup(fakeKube(false, nil), cloud)
	s.Quotas = &state.Quotas{}
	if _, err := link(t, s, seedRequest); err != nil {
		t.Fatal(err)
	}
	big := trust.New()
	var subs []string
	for i := range 60 {
		subs = append(subs, trust.Subject("team", fmt.Sprintf("sa-%03d", i)))
	}
	big.AddSubjects(trust.NewProvider(fakeaws.Partition, fakeaws.Account, testIssuer), "sts.amazonaws.com", subs...)
	for range 3 {
		if _, err := s.CheckTrustInQuota(context.Background(), fakeaws.Account, 0, "r", big); !errors.Is(err, ErrTrustTooLarge) {
			t.Fatalf("err = %v", err)
		}
	}
	n := 0
	for _, c := range cloud.Calls() {
		if c == "GetAccountSummary" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("GetAccountSummary called %d times, want 1 (calls %v)", n, cloud.Calls())
	}
}

func trustOf(t *testing.T, cloud *fakeaws.AWS) *trust.Document {
	t.Helper()
	d, err := trust.Parse(cloud.IAM.Trust("irsa-role"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPodIdentityStatementInAccountQuota: the trust step of migrate (our Pod Identity statement merged into the
// role's trust) is checked against the account's quota, not IAM's default: a raised quota admits the statement,
// the default refuses it with the options and writes nothing.
func TestPodIdentityStatementInAccountQuota(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quota int
		fits  bool
	}{
		{name: "default quota refuses", quota: 0},
		{name: "raised quota admits", quota: 4096, fits: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cloud := fakeaws.New()
			cloud.IAM.TrustQuota = tc.quota
			before := fullRole(cloud, 45)
			p := &PodIdentity{Setup: newSetup(fakeKube(false, nil), cloud), EKS: cloud.EKS, Cluster: "prod"}
			p.Quotas = &state.Quotas{}
			roleARN := "arn:aws:iam::" + fakeaws.Account + ":role/irsa-role"
			added, err := p.addPodIdentityInQuota(context.Background(), p.writer(), roleARN, "irsa-role")
			after := trustOf(t, cloud)
			if tc.fits {
				if err != nil || len(added) == 0 || !after.TrustsPodIdentity() {
					t.Fatalf("added %v, err %v: want the statement in a trust of %d characters", added, err, after.Size())
				}
				return
			}
			if !errors.Is(err, ErrTrustTooLarge) || !strings.Contains(err.Error(), "the account's quota of 2048") {
				t.Fatalf("err = %v, want a refusal naming the account's quota", err)
			}
			if !after.Equal(before) {
				t.Errorf("a refused statement changed the trust")
			}
		})
	}
}
