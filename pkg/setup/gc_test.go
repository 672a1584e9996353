package setup

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

const (
	gcLive    = "https://oidc.eks.us-east-1.amazonaws.com/id/LIVE0001"
	gcGone    = "https://oidc.eks.us-east-1.amazonaws.com/id/GONE0001"
	gcForeign = "https://oidc.eks.us-east-1.amazonaws.com/id/FOREIGN1"
	gcMissing = "https://oidc.eks.us-east-1.amazonaws.com/id/MISSING1"
	gcOther   = "https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER001"
)

func gcProviderOf(iss string) trust.Provider {
	return trust.NewProvider(fakeaws.Partition, fakeaws.Account, iss)
}

// gcAccount: cluster "live" exists; providers live, gone (ours), foreign (not ours), other (ours, another region);
// roles shared (live+gone), gone-only, missing (live + a provider that no longer exists) are ours, foreign-role
// trusts only the foreign provider and is not ours.
func gcAccount(t *testing.T) (*fakeaws.AWS, *Setup) {
	t.Helper()
	ctx := context.Background()
	cloud := fakeaws.New()
	cloud.EKS.Clusters["live"] = gcLive
	for _, iss := range []string{gcLive, gcGone, gcOther} {
		if err := CreateProvider(ctx, cloud.IAM, iss, "sts.amazonaws.com", ""); err != nil {
			t.Fatal(err)
		}
	}
	cloud.IAM.AddProvider(trust.HostPath(gcForeign), "sts.amazonaws.com")
	role := func(name string, managed bool, issuers ...string) {
		d := trust.New()
		for _, iss := range issuers {
			d.AddSubjects(gcProviderOf(iss), "sts.amazonaws.com", trust.Subject("ns", name))
		}
		in := &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(d.String())}
		if managed {
			in.Tags = managedTags("x")
		}
		if _, err := cloud.IAM.CreateRole(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	role("shared", true, gcLive, gcGone)
	role("gone-only", true, gcGone)
	role("missing", true, gcLive, gcMissing)
	role("foreign-role", false, gcForeign)
	return cloud, newSetup(nil, cloud)
}

func gcActions(res *api.Result) []string {
	var out []string
	for _, a := range res.Actions {
		out = append(out, a.Op+" "+a.Resource+" "+a.Status)
	}
	return out
}

// TestGCPlanThenConfirm: without Confirm nothing is written; with it the gone provider's statements are removed,
// the role left with none deleted, the statement naming a provider that no longer exists removed, the gone
// provider deleted, the foreign one and the other region's kept.
func TestGCPlanThenConfirm(t *testing.T) {
	cloud, s := gcAccount(t)
	ctx := context.Background()
	req := GCRequest{Regions: []string{"us-east-1"}}
	plan, err := s.PlanGC(ctx, cloud.IAM, cloud.EKS, req)
	if err != nil {
		t.Fatal(err)
	}
	writes := len(cloud.Writes())
	res, err := plan.Apply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"~ role/missing planned", "~ role/shared planned", "- role/gone-only planned",
		"= oidc-provider/" + trust.HostPath(gcForeign) + " unchanged",
		"- oidc-provider/" + trust.HostPath(gcGone) + " planned",
	}
	got := gcActions(res)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(cloud.Writes()) != writes || len(res.CouldNotCheck) != 0 {
		t.Fatalf("dry plan wrote %v, could not check %v", cloud.Writes()[writes:], res.CouldNotCheck)
	}

	req.Confirm = true
	plan, err = s.PlanGC(ctx, cloud.IAM, cloud.EKS, req)
	if err != nil {
		t.Fatal(err)
	}
	if res, err = plan.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(res.Actions, func(a api.Action) bool { return a.Status == api.StatusPlanned }) {
		t.Errorf("actions not run: %v", gcActions(res))
	}
	shared, _ := trust.Parse(cloud.IAM.Trust("shared"))
	missing, _ := trust.Parse(cloud.IAM.Trust("missing"))
	if slices.Contains(shared.NamedProviders(), gcProviderOf(gcGone).ARN) || len(shared.Subjects(gcProviderOf(gcLive))) != 1 {
		t.Errorf("shared trust: %s", shared)
	}
	if slices.Contains(missing.NamedProviders(), gcProviderOf(gcMissing).ARN) || len(missing.Subjects(gcProviderOf(gcLive))) != 1 {
		t.Errorf("missing trust: %s", missing)
	}
	if cloud.IAM.Trust("gone-only") != "" {
		t.Error("gone-only role kept")
	}
	if cloud.IAM.ProviderClientIDs(trust.HostPath(gcGone)) != nil {
		t.Error("gone provider kept")
	}
	for _, iss := range []string{gcLive, gcForeign, gcOther} {
		if cloud.IAM.ProviderClientIDs(trust.HostPath(iss)) == nil {
			t.Errorf("provider %s deleted", iss)
		}
	}
	if cloud.IAM.Trust("foreign-role") == "" {
		t.Error("foreign role deleted")
	}
	// Re-run: nothing left to collect.
	plan, err = s.PlanGC(ctx, cloud.IAM, cloud.EKS, req)
	if err != nil {
		t.Fatal(err)
	}
	if res := plan.Result(); !res.Unchanged {
		t.Errorf("second run plans %v", gcActions(res))
	}
}

// TestGCCouldNotCheckHoldsBack: the region's clusters cannot be listed, so no provider of it is judged and nothing
// naming them is touched; the result says why. A failed role read holds back that role and the provider it names.
func TestGCCouldNotCheckHoldsBack(t *testing.T) {
	cloud, s := gcAccount(t)
	ctx := context.Background()
	cloud.Fail("ListClusters", fakeaws.AccessDenied("ListClusters"))
	plan, err := s.PlanGC(ctx, cloud.IAM, cloud.EKS, GCRequest{Regions: []string{"us-east-1"}, Confirm: true})
	if err != nil {
		t.Fatal(err)
	}
	res := plan.Result()
	if !res.Unchanged || len(res.CouldNotCheck) != 1 || !strings.Contains(res.CouldNotCheck[0], "us-east-1") {
		t.Fatalf("actions %v, could not check %v", gcActions(res), res.CouldNotCheck)
	}

	cloud, s = gcAccount(t)
	cloud.Fail("GetRole", fakeaws.AccessDenied("GetRole"))
	plan, err = s.PlanGC(ctx, cloud.IAM, cloud.EKS, GCRequest{Regions: []string{"us-east-1"}, Confirm: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	if cloud.IAM.ProviderClientIDs(trust.HostPath(gcGone)) == nil || cloud.IAM.Trust("gone-only") == "" {
		t.Error("deleted what an unreadable role concerns")
	}
	if res := plan.Result(); len(res.CouldNotCheck) != 4 {
		t.Errorf("could not check %v", res.CouldNotCheck)
	}
}

// TestGCAssociationKeepsRole: a role of ours with no subject left but a Pod Identity association is kept.
func TestGCAssociationKeepsRole(t *testing.T) {
	cloud, s := gcAccount(t)
	cloud.EKS.AddAssociation("live", "ns", "sa", "arn:aws:iam::"+fakeaws.Account+":role/gone-only")
	plan, err := s.PlanGC(context.Background(), cloud.IAM, cloud.EKS, GCRequest{Regions: []string{"us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	res := plan.Result()
	if slices.Contains(gcActions(res), "- role/gone-only planned") || !strings.Contains(strings.Join(res.Hints, "\n"), "Pod Identity association") {
		t.Errorf("actions %v hints %v", gcActions(res), res.Hints)
	}
}

// TestGCNeverJudgesNonEKSIssuers: a provider whose issuer is not an EKS cluster's (GitHub Actions) matches no
// cluster by construction; even with IncludeForeign and Confirm it is kept, and so is the role trusting it.
func TestGCNeverJudgesNonEKSIssuers(t *testing.T) {
	cloud, s := gcAccount(t)
	ctx := context.Background()
	const github = "https://token.actions.githubusercontent.com"
	cloud.IAM.AddProvider(trust.HostPath(github), "sts.amazonaws.com")
	d := trust.New()
	d.AddSubjects(gcProviderOf(github), "sts.amazonaws.com", "repo:org/repo:ref:refs/heads/main")
	if _, err := cloud.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: aws.String(d.String())}); err != nil {
		t.Fatal(err)
	}
	plan, err := s.PlanGC(ctx, cloud.IAM, cloud.EKS, GCRequest{Regions: []string{"us-east-1"}, IncludeForeign: true, Confirm: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cloud.IAM.Trust("deploy"), "token.actions.githubusercontent.com") {
		t.Errorf("the GitHub Actions role lost its statement: %s", cloud.IAM.Trust("deploy"))
	}
	for _, w := range cloud.Writes() {
		if strings.Contains(w, "token.actions") || strings.Contains(w, "deploy") {
			t.Errorf("gc wrote %s", w)
		}
	}
	out, err := cloud.IAM.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(out.OpenIDConnectProviderList, func(p iamtypes.OpenIDConnectProviderListEntry) bool {
		return strings.HasSuffix(aws.ToString(p.Arn), "token.actions.githubusercontent.com")
	}) {
		t.Error("gc --include-foreign --confirm deleted the GitHub Actions provider")
	}
}

// TestGCKeepsARoleWithHandAddedPolicies: a role of ours whose trust admits only gone providers is kept when it
// holds an inline policy kubectl irsa did not write, and the result says why.
func TestGCKeepsARoleWithHandAddedPolicies(t *testing.T) {
	cloud, s := gcAccount(t)
	ctx := context.Background()
	cloud.IAM.PutInline("gone-only", "hand-inline", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`)
	plan, err := s.PlanGC(ctx, cloud.IAM, cloud.EKS, GCRequest{Regions: []string{"us-east-1"}, Confirm: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := plan.Apply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cloud.IAM.Trust("gone-only") == "" {
		t.Fatal("gc deleted a role holding a hand-added inline policy")
	}
	if !strings.Contains(strings.Join(res.Hints, "\n"), "hand-inline") {
		t.Errorf("no hint names the kept policy: %v", res.Hints)
	}
}
