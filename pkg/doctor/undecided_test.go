package doctor

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// trustWith is a one-statement trust for the seed ServiceAccount with an extra condition block.
func trustWith(t *testing.T, extra string) *trust.Document {
	t.Helper()
	doc, err := trust.Parse(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},
		"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"%s:sub":%q,"%s:aud":"sts.amazonaws.com"}%s}}]}`,
		prov.ARN, prov.HostPath, "system:serviceaccount:irsa-sample-ns:irsa-test", prov.HostPath, extra))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestTrustRulesThreeValued: only a certain refusal is a TrustMismatch; a trust whose answer depends on keys
// the evaluator does not model is an info note naming them, and its unknown conditions are never listed as
// mismatches.
func TestTrustRulesThreeValued(t *testing.T) {
	for _, tc := range []struct {
		name, extra  string
		want, forbid string
	}{
		{"unmodelled key allows", `,"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}`, TrustUndecided, TrustMismatch},
		{"unmodelled key denies nothing certain", `,"StringLike":{"aws:RequestTag/team":"a*"}`, TrustUndecided, TrustMismatch},
		{"certain refusal despite unknown key", `,"IpAddress":{"aws:SourceIp":"203.0.113.0/24"},"StringNotEquals":{"` + prov.HostPath + `:aud":"sts.amazonaws.com"}`, TrustMismatch, TrustUndecided},
	} {
		t.Run(tc.name, func(t *testing.T) {
			role := goodRole()
			role.Trust = trustWith(t, tc.extra)
			s := Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Role: role, Provider: goodProvider()}
			fs := Diagnose(Cluster{Issuer: issuer}, s)
			var got, forbidden *Finding
			for i := range fs {
				switch fs[i].ID {
				case tc.want:
					got = &fs[i]
				case tc.forbid:
					forbidden = &fs[i]
				}
			}
			if got == nil || forbidden != nil {
				t.Fatalf("findings %+v", fs)
			}
			if got.ID == TrustUndecided && (got.Severity != Info || HasErrors(fs) || !strings.Contains(got.Summary, "aws:")) {
				t.Errorf("undecided trust: %+v", got)
			}
			if got.ID == TrustMismatch && strings.Contains(strings.Join(got.Evidence, " "), "aws:SourceIp") {
				t.Errorf("an unknown condition listed as a mismatch: %v", got.Evidence)
			}
		})
	}
}

// TestHostNetworkFix: a hop limit of 1 does not stop a hostNetwork pod from reaching IMDS; the fix must not
// say it does.
func TestHostNetworkFix(t *testing.T) {
	pod := injectedPod(roleARN)
	pod.Spec.HostNetwork = true
	s := Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Role: goodRole(), Provider: goodProvider(), Pods: []Pod{pod}}
	for _, f := range Diagnose(Cluster{Issuer: issuer}, s) {
		if f.ID != HostNetwork {
			continue
		}
		if strings.Contains(f.Fix, "hop limit") || !strings.Contains(f.Fix, "drop hostNetwork") || !strings.Contains(strings.Join(f.Evidence, " "), "hop limit of 1") {
			t.Errorf("HostNetwork: %+v", f)
		}
		return
	}
	t.Error("no HostNetwork finding")
}
