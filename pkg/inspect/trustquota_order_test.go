package inspect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// TestTrustQuotaFindingsInRoleOrder: the TrustNearQuota findings come in the order of the roles' ARNs, whatever the
// order of the map they are read from, so two runs over the same account print the same report.
func TestTrustQuotaFindingsInRoleOrder(t *testing.T) {
	big, err := trust.Parse(`{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("x", 1900) + `","Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]*doctor.AuditRole{}
	var want []string
	for i := range 20 {
		name := fmt.Sprintf("near-%02d", i)
		arn := "arn:aws:iam::123456789012:role/" + name
		roles[arn] = &doctor.AuditRole{Name: name, ARN: arn, Trust: big}
		want = append(want, "role/"+name)
	}
	in := &Inspector{Quotas: fakeaws.New().IAM}
	for range 5 {
		var got []string
		for _, f := range in.trustQuotaFindings(context.Background(), roles) {
			got = append(got, f.Target)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("findings in order %v, want %v", got, want)
		}
	}
}
