package setup

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

const (
	oldIssuer = "https://oidc.eks.us-east-1.amazonaws.com/id/OLDOLDOLD0"
	newIssuer = "https://oidc.eks.us-east-1.amazonaws.com/id/NEWNEWNEW0"
)

const podIdentityTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`

var (
	oldProvider = trust.NewProvider("aws", fakeaws.Account, oldIssuer)
	newProvider = trust.NewProvider("aws", fakeaws.Account, newIssuer)
)

// retargetFixture is an account whose role "app" admits shop/cart and shop/worker through the old issuer (next to
// a foreign statement), the old cluster's EKS (oldEKS, its own fake), and the new cluster's (cloud.EKS).
func retargetFixture(t *testing.T) (*Retarget, *fakeaws.AWS, *fakeaws.AWS) {
	t.Helper()
	cloud, old := fakeaws.New(), fakeaws.New()
	d := trust.New()
	d.AddSubjects(oldProvider, trust.DefaultAudience, trust.Subject("shop", "cart"), trust.Subject("shop", "worker"))
	d.Statements = append(d.Statements, []byte(`{"Sid":"Admins","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}`))
	cloud.IAM.AddRole("/team/", "app", d.String())
	cloud.IAM.AddRole("/", "unrelated", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	cloud.IAM.AddRole("/", "billing", podIdentityTrust)
	s := newSetup(fakeKube(false, nil), cloud)
	return &Retarget{Setup: s, FromEKS: old.EKS, ToEKS: cloud.EKS}, cloud, old
}

func retargetRequest(removeOld bool, roles ...string) RetargetRequest {
	return RetargetRequest{FromIssuer: oldIssuer, ToIssuer: newIssuer, FromCluster: "blue", ToCluster: "green", Roles: roles, All: len(roles) == 0, RemoveOld: removeOld}
}

func retarget(t *testing.T, r *Retarget, req RetargetRequest) *RetargetPlan {
	t.Helper()
	ctx := context.Background()
	plan, err := r.PlanRetarget(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	if err := plan.ApplyRemove(ctx); err != nil {
		t.Fatal(err)
	}
	return plan
}

func admitsThrough(t *testing.T, cloud *fakeaws.AWS, role string, p trust.Provider, sa string) bool {
	t.Helper()
	d, err := trust.Parse(cloud.IAM.Trust(role))
	if err != nil {
		t.Fatal(err)
	}
	return d.Evaluate(trust.Claims{ProviderARN: p.ARN, HostPath: p.HostPath, Subject: trust.Subject("shop", sa), Audience: trust.DefaultAudience}).Verdict == trust.Admits
}

// TestRetargetAddsNewSubjectsThenRemovesOld: -A finds the role under its path, creates the new provider, adds
// both subjects for the new issuer and keeps the old; --remove-old then drops the old ones (the foreign statement
// stays); a re-run writes nothing.
func TestRetargetAddsNewSubjectsThenRemovesOld(t *testing.T) {
	r, cloud, _ := retargetFixture(t)
	cloud.PageSize = 1 // every list page holds one role: all pages must be read
	plan := retarget(t, r, retargetRequest(false))
	if len(plan.Roles) != 1 || plan.Roles[0].ARN != "arn:aws:iam::123456789012:role/team/app" {
		t.Fatalf("roles in scope: %+v", plan.Roles)
	}
	if ids := cloud.IAM.ProviderClientIDs(newProvider.HostPath); !slices.Equal(ids, []string{trust.DefaultAudience}) {
		t.Errorf("new provider client IDs %v", ids)
	}
	for _, sa := range []string{"cart", "worker"} {
		if !admitsThrough(t, cloud, "app", newProvider, sa) || !admitsThrough(t, cloud, "app", oldProvider, sa) {
			t.Errorf("%s: want admitted through both issuers:\n%s", sa, cloud.IAM.Trust("app"))
		}
	}

	before := len(cloud.Writes())
	retarget(t, r, retargetRequest(true))
	for _, sa := range []string{"cart", "worker"} {
		if !admitsThrough(t, cloud, "app", newProvider, sa) || admitsThrough(t, cloud, "app", oldProvider, sa) {
			t.Errorf("%s: want admitted through the new issuer only:\n%s", sa, cloud.IAM.Trust("app"))
		}
	}
	if !strings.Contains(cloud.IAM.Trust("app"), "Admins") {
		t.Errorf("the foreign statement was dropped:\n%s", cloud.IAM.Trust("app"))
	}
	if w := cloud.Writes()[before:]; len(w) != 1 || w[0] != "UpdateAssumeRolePolicy" {
		t.Errorf("--remove-old after the copy should be one trust write, got %v", w)
	}

	before = len(cloud.Writes())
	plan = retarget(t, r, retargetRequest(true))
	if plan.Changed() || len(cloud.Writes()) != before {
		t.Errorf("re-run wrote %v", cloud.Writes()[before:])
	}
}

// TestRetargetKeepOld: a role taken out of the remove plan (its test on the new cluster failed) keeps its old
// subjects.
func TestRetargetKeepOld(t *testing.T) {
	r, cloud, _ := retargetFixture(t)
	ctx := context.Background()
	plan, err := r.PlanRetarget(ctx, retargetRequest(true, "arn:aws:iam::123456789012:role/team/app"))
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	plan.Keep(plan.Roles[0].ARN, "test of shop/cart failed")
	if err := plan.ApplyRemove(ctx); err != nil {
		t.Fatal(err)
	}
	if !admitsThrough(t, cloud, "app", oldProvider, "cart") || !plan.Kept() {
		t.Errorf("old subject dropped although kept:\n%s", cloud.IAM.Trust("app"))
	}
}

// TestRetargetRefusesOversizedTrust: a trust that would exceed the quota is refused before any write.
func TestRetargetRefusesOversizedTrust(t *testing.T) {
	r, cloud, _ := retargetFixture(t)
	req := retargetRequest(false, "app")
	d, _ := trust.Parse(cloud.IAM.Trust("app"))
	req.TrustSizeLimit = d.Size() + 50
	_, err := r.PlanRetarget(context.Background(), req)
	if !errors.Is(err, ErrTrustTooLarge) || !strings.Contains(err.Error(), "quota") {
		t.Fatalf("err = %v, want ErrTrustTooLarge", err)
	}
	if w := cloud.Writes(); len(w) != 0 {
		t.Errorf("wrote %v", w)
	}
}

// TestRetargetCouldNotCheck: a read that fails (roles, associations) stops the plan with ErrCouldNotCheck and
// nothing written, never a role silently left out.
func TestRetargetCouldNotCheck(t *testing.T) {
	for _, tc := range []struct {
		op   string
		deny func(cloud, old *fakeaws.AWS, err error)
	}{
		{"ListRoles", func(cloud, _ *fakeaws.AWS, err error) { cloud.Fail("ListRoles", err) }},
		{"ListPodIdentityAssociations", func(_, old *fakeaws.AWS, err error) { old.Fail("ListPodIdentityAssociations", err) }},
		{"DescribePodIdentityAssociation", func(_, old *fakeaws.AWS, err error) { old.Fail("DescribePodIdentityAssociation", err) }},
		{"GetOpenIDConnectProvider", func(cloud, _ *fakeaws.AWS, err error) { cloud.Fail("GetOpenIDConnectProvider", err) }},
	} {
		t.Run(tc.op, func(t *testing.T) {
			r, cloud, old := retargetFixture(t)
			old.EKS.AddAssociation("blue", "shop", "billing", "arn:aws:iam::123456789012:role/billing")
			tc.deny(cloud, old, fakeaws.AccessDenied(tc.op))
			_, err := r.PlanRetarget(context.Background(), retargetRequest(false))
			if !errors.Is(err, ErrCouldNotCheck) || !strings.Contains(err.Error(), "AccessDenied") {
				t.Fatalf("err = %v, want ErrCouldNotCheck naming AccessDenied", err)
			}
			if w := cloud.Writes(); len(w) != 0 {
				t.Errorf("wrote %v", w)
			}
		})
	}
}

// TestRetargetRecreatesAssociation: the old cluster's association is created on the new cluster with the same
// role, target role and session tags; its role's trust gets nothing new; a re-run is unchanged; a failure after
// the trust write rolls the trust back.
func TestRetargetRecreatesAssociation(t *testing.T) {
	r, cloud, old := retargetFixture(t)
	roleARN := "arn:aws:iam::123456789012:role/billing"
	old.EKS.AddAssociation("blue", "shop", "billing", roleARN)
	old.EKS.Associations[0].DisableSessionTags = aws.Bool(true)
	trustBefore := cloud.IAM.Trust("billing")
	retarget(t, r, retargetRequest(false, "billing"))
	a := cloud.EKS.Association("shop", "billing")
	if a == nil || aws.ToString(a.RoleArn) != roleARN || aws.ToString(a.ClusterName) != "green" || !aws.ToBool(a.DisableSessionTags) {
		t.Fatalf("association on the new cluster: %+v", a)
	}
	if cloud.IAM.Trust("billing") != trustBefore {
		t.Errorf("the Pod Identity role's trust changed:\n%s", cloud.IAM.Trust("billing"))
	}
	before := len(cloud.Writes())
	if plan := retarget(t, r, retargetRequest(false, "billing")); plan.Changed() || len(cloud.Writes()) != before {
		t.Errorf("re-run wrote %v", cloud.Writes()[before:])
	}
}

// TestRetargetRollsBack: when creating the association fails, the trust write and the provider of this run are
// undone.
func TestRetargetRollsBack(t *testing.T) {
	r, cloud, old := retargetFixture(t)
	old.EKS.AddAssociation("blue", "shop", "billing", "arn:aws:iam::123456789012:role/billing")
	trustBefore := cloud.IAM.Trust("app")
	cloud.Fail("CreatePodIdentityAssociation", errors.New("boom"))
	ctx := context.Background()
	plan, err := r.PlanRetarget(ctx, retargetRequest(false))
	if err != nil {
		t.Fatal(err)
	}
	err = plan.Apply(ctx)
	if err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("err = %v, want a rollback", err)
	}
	if got := cloud.IAM.Trust("app"); got != trustBefore {
		t.Errorf("trust not restored:\n%s\nwant\n%s", got, trustBefore)
	}
	if ids := cloud.IAM.ProviderClientIDs(newProvider.HostPath); len(ids) != 0 {
		t.Errorf("the provider this run created is still there: %v", ids)
	}
}

// TestRetargetRefusesTrustNamingOldCluster: a Pod Identity trust conditioned on the old cluster's name would give
// the recreated association no credentials: refused before any write.
func TestRetargetRefusesTrustNamingOldCluster(t *testing.T) {
	r, cloud, old := retargetFixture(t)
	roleARN := cloud.IAM.AddRole("/", "pinned", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:RequestTag/eks-cluster-name":"blue"}}}]}`)
	old.EKS.AddAssociation("blue", "shop", "pinned", roleARN)
	_, err := r.PlanRetarget(context.Background(), retargetRequest(false, "pinned"))
	if err == nil || !strings.Contains(err.Error(), "refuses") {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if w := cloud.Writes(); len(w) != 0 {
		t.Errorf("wrote %v", w)
	}
}
