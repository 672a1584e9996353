package doctor

import (
	"fmt"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

func TestTrustQuotaRule(t *testing.T) {
	p := trust.NewProvider("aws", "111122223333", "https://oidc.eks.us-east-1.amazonaws.com/id/AAAA")
	d := trust.New()
	for i := 0; d.Size() < 1700; i++ {
		d.AddSubjects(p, "sts.amazonaws.com", trust.Subject("ns", fmt.Sprintf("sa-%03d", i)))
	}
	r := AuditRole{Name: "r", Trust: d}
	if f := TrustQuotaRule(r, 2048, "the account's quota"); f == nil || f.ID != TrustNearQuota {
		t.Errorf("%d of 2048: %v", d.Size(), f)
	}
	if f := TrustQuotaRule(r, 4096, "the account's quota"); f != nil {
		t.Errorf("%d of 4096: %v", d.Size(), f)
	}
}
