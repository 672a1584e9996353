package inspect

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
)

// A failed association list (denied, or a cluster EKS does not know) is could-not-check in doctor and list,
// never NotAnnotated for the Pod Identity ServiceAccounts it would have shown.
func TestAssociationReadFailureIsCouldNotCheck(t *testing.T) {
	for _, fail := range []error{
		&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: eks:ListPodIdentityAssociations"},
		&smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "No cluster found for name: wrong."},
	} {
		cloud, kube := piFixture(true)
		cloud.Fail("ListPodIdentityAssociations", fail)
		in := &Inspector{Kube: kube, IAM: cloud.IAM, EKS: cloud.EKS, Addons: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}, Issuer: testIssuer}
		rep, err := in.DoctorScope(context.Background(), "shop")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range rep.Findings {
			if f.ID == doctor.NotAnnotated {
				t.Errorf("%v: %s %s reported although the associations could not be read", fail, f.ID, f.Target)
			}
		}
		if !containsText(rep.CouldNotCheck, "EKS Pod Identity associations") {
			t.Errorf("%v: doctor could not check %v", fail, rep.CouldNotCheck)
		}
		in = &Inspector{Kube: kube, IAM: cloud.IAM, EKS: cloud.EKS, Addons: cloud.EKS, Cluster: cluster.Ref{Name: "prod"}, Issuer: testIssuer}
		res, err := in.List(context.Background(), "shop")
		if err != nil {
			t.Fatal(err)
		}
		if !containsText(res.CouldNotCheck, "EKS Pod Identity associations") {
			t.Errorf("%v: list could not check %v, notes %v", fail, res.CouldNotCheck, res.Notes)
		}
		tester := &Tester{Kube: kube, IAM: cloud.IAM, STS: cloud.STS, EKS: cloud.EKS, Issuer: testIssuer, Cluster: cluster.Ref{Name: "prod"}}
		tr, err := tester.Test(context.Background(), "shop", "good", 0)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Verdict != VerdictNotProven || len(tr.CouldNotCheck) == 0 {
			t.Errorf("%v: test verdict %s (%s), could not check %v", fail, tr.Verdict, tr.Reason, tr.CouldNotCheck)
		}
	}
}

func containsText(list []string, s string) bool {
	for _, l := range list {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}
