package inspect

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

const fleetRoles = 30

// fleet is 30 roles each trusted by one ServiceAccount, plus ServiceAccounts annotated with a missing role, a
// role at another path than the annotation's, and a role in another account.
func fleet(t *testing.T) (*fakeaws.AWS, *fake.Clientset) {
	t.Helper()
	cloud := fakeaws.New()
	provider := trust.NewProvider("aws", fakeaws.Account, testIssuer)
	var objs []runtime.Object
	sa := func(name, role string) {
		objs = append(objs, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop",
			Annotations: map[string]string{iamref.RoleARNAnnotation: role}}})
	}
	for i := range fleetRoles {
		name := fmt.Sprintf("r-%02d", i)
		doc := trust.New()
		// Every other role trusts its ServiceAccount; the rest name another one.
		subject := "system:serviceaccount:shop:sa-" + strconv.Itoa(i+i%2)
		doc.Statements = append(doc.Statements, []byte(fmt.Sprintf(`{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{%q:%q,%q:"sts.amazonaws.com"}}}`,
			provider.ARN, provider.HostPath+":sub", subject, provider.HostPath+":aud")))
		cloud.IAM.AddRole("", name, doc.String())
		sa("sa-"+strconv.Itoa(i), "arn:aws:iam::"+fakeaws.Account+":role/"+name)
	}
	cloud.IAM.PutInline("r-03", "admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	admin := cloud.IAM.AddManagedPolicy("everything", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["*"],"Resource":"*"}]}`)
	if _, err := cloud.IAM.AttachRolePolicy(context.Background(), &iam.AttachRolePolicyInput{RoleName: aws.String("r-05"), PolicyArn: aws.String(admin)}); err != nil {
		t.Fatal(err)
	}
	cloud.IAM.AddRole("/team/", "pathed", `{"Version":"2012-10-17","Statement":[]}`)
	sa("gone", "arn:aws:iam::"+fakeaws.Account+":role/gone")
	sa("pathed", "arn:aws:iam::"+fakeaws.Account+":role/pathed")
	sa("foreign", "arn:aws:iam::222222222222:role/elsewhere")
	return cloud, fake.NewClientset(objs...)
}

func count(calls []string, op string) int {
	n := 0
	for _, c := range calls {
		if c == op {
			n++
		}
	}
	return n
}

func TestListSameResultByRoleAndByListing(t *testing.T) {
	run := func(threshold int) (*ListResult, []string) {
		cloud, kube := fleet(t)
		in := &Inspector{Kube: kube, IAM: cloud.IAM, Issuer: testIssuer, ListThreshold: threshold}
		res, err := in.List(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		return res, cloud.Calls()[1:] // after the fixture's AttachRolePolicy
	}
	perRole, perRoleCalls := run(100000)
	listed, listedCalls := run(0)
	if !reflect.DeepEqual(perRole, listed) {
		t.Errorf("per-role result\n%+v\ndiffers from the listing's\n%+v", perRole, listed)
	}
	if n := count(perRoleCalls, "GetRole"); n != fleetRoles+3 || count(perRoleCalls, "ListRoles") != 0 {
		t.Errorf("per-role path: %d GetRole, calls %v", n, perRoleCalls)
	}
	// Listing: one ListRoles page; GetRole only for what it cannot give (the missing role, confirmed, and
	// the other account's); the role at another path is in the listing.
	if count(listedCalls, "ListRoles") != 1 || count(listedCalls, "GetRole") != 2 {
		t.Errorf("listing path calls %v", listedCalls)
	}
	yes := 0
	for _, it := range listed.Items {
		if it.TrustAdmits == "yes" {
			yes++
		}
		if it.ServiceAccount == "gone" && it.RoleExists != "no" || it.ServiceAccount == "foreign" && it.RoleExists != "no" {
			t.Errorf("row %+v", it)
		}
	}
	if yes != fleetRoles/2 {
		t.Errorf("%d rows admitted, want %d", yes, fleetRoles/2)
	}
}

func TestListingStopsAtAnotherAccount(t *testing.T) {
	cloud := fakeaws.New()
	cloud.PageSize = 1
	for i := range 3 {
		cloud.IAM.AddRole("", fmt.Sprintf("mine-%d", i), `{"Version":"2012-10-17","Statement":[]}`)
	}
	in := &Inspector{IAM: cloud.IAM, Issuer: testIssuer}
	refs := []iamref.Role{}
	for i := range 2 {
		r, _ := iamref.ParseRole(fmt.Sprintf("arn:aws:iam::222222222222:role/team/r-%d", i))
		refs = append(refs, r)
	}
	in.listRoles(context.Background(), refs)
	if calls := cloud.Calls(); len(calls) != 1 || len(in.roles) != 0 {
		t.Errorf("calls %v, roles %v", calls, in.roles)
	}
}

func TestCommonPath(t *testing.T) {
	role := func(path string) iamref.Role { return iamref.Role{Path: path} }
	for _, tc := range []struct {
		paths []string
		want  string
	}{
		{[]string{"/"}, "/"},
		{[]string{"/team/a/", "/team/b/"}, "/team/"},
		{[]string{"/team/a/", "/team/a/"}, "/team/a/"},
		{[]string{"/team/", "/other/"}, "/"},
		{[]string{"/team/a/", "/"}, "/"},
	} {
		var refs []iamref.Role
		for _, p := range tc.paths {
			refs = append(refs, role(p))
		}
		if got := commonPath(refs); got != tc.want {
			t.Errorf("commonPath(%v) = %q, want %q", tc.paths, got, tc.want)
		}
	}
}

// detailsIAM adds GetAccountAuthorizationDetails to the fake, answered from a snapshot taken through the
// fake's own reads (before the run under test).
type detailsIAM struct {
	*fakeaws.IAM
	details *iam.GetAccountAuthorizationDetailsOutput
	calls   int
}

func (d *detailsIAM) GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error) {
	d.calls++
	return d.details, nil
}

func snapshotDetails(t *testing.T, f *fakeaws.IAM) *iam.GetAccountAuthorizationDetailsOutput {
	ctx := context.Background()
	out := &iam.GetAccountAuthorizationDetailsOutput{}
	roles, err := f.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.Roles {
		d := types.RoleDetail{Arn: r.Arn, RoleName: r.RoleName, Path: r.Path, AssumeRolePolicyDocument: r.AssumeRolePolicyDocument}
		names, _ := f.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: r.RoleName})
		for _, n := range names.PolicyNames {
			p, _ := f.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: r.RoleName, PolicyName: aws.String(n)})
			d.RolePolicyList = append(d.RolePolicyList, types.PolicyDetail{PolicyName: aws.String(n), PolicyDocument: p.PolicyDocument})
		}
		attached, _ := f.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: r.RoleName})
		d.AttachedManagedPolicies = attached.AttachedPolicies
		out.RoleDetailList = append(out.RoleDetailList, d)
		for _, a := range attached.AttachedPolicies {
			p, _ := f.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: a.PolicyArn})
			v, _ := f.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: a.PolicyArn, VersionId: p.Policy.DefaultVersionId})
			out.Policies = append(out.Policies, types.ManagedPolicyDetail{Arn: a.PolicyArn, DefaultVersionId: p.Policy.DefaultVersionId,
				PolicyVersionList: []types.PolicyVersion{{Document: v.PolicyVersion.Document, IsDefaultVersion: true}}})
		}
	}
	return out
}

func TestAuditSameFindingsByRoleAndByAccountDetails(t *testing.T) {
	caller := awsapi.Caller{Account: fakeaws.Account, Partition: "aws"}
	run := func(threshold int, withDetails bool) (*AuditReport, []string, int) {
		cloud, kube := fleet(t)
		d := &detailsIAM{IAM: cloud.IAM}
		in := &Inspector{Kube: kube, IAM: cloud.IAM, Issuer: testIssuer, ListThreshold: threshold}
		if withDetails {
			d.details = snapshotDetails(t, cloud.IAM)
			in.AccountDetails = d
		}
		before := len(cloud.Calls())
		rep, err := in.Audit(context.Background(), caller, "")
		if err != nil {
			t.Fatal(err)
		}
		return rep, cloud.Calls()[before:], d.calls
	}
	perRole, perRoleCalls, _ := run(100000, true)
	byDetails, detailsCalls, n := run(0, true)
	if !reflect.DeepEqual(perRole, byDetails) {
		t.Errorf("per-role report\n%+v\ndiffers from the account details'\n%+v", perRole, byDetails)
	}
	admin := 0
	for _, f := range byDetails.Findings {
		if f.ID == doctor.AdminPermissions {
			admin++
		}
	}
	if admin != 2 {
		t.Errorf("%d admin findings, want 2 (inline and attached): %+v", admin, byDetails.Findings)
	}
	if count(perRoleCalls, "ListRolePolicies") != fleetRoles {
		t.Errorf("per-role path calls %v", perRoleCalls)
	}
	// One details page and no policy read at all (the managed policy is local: its document is listed).
	if n != 1 || count(detailsCalls, "ListRolePolicies") != 0 || count(detailsCalls, "GetPolicyVersion") != 0 || count(detailsCalls, "ListRoles") != 0 {
		t.Errorf("details path: %d GetAccountAuthorizationDetails, calls %v", n, detailsCalls)
	}
	// Without the API (a client that lacks it), the same report from ListRoles and per-role reads.
	noDetails, _, _ := run(0, false)
	if !reflect.DeepEqual(perRole, noDetails) {
		t.Errorf("fallback report differs:\n%+v\n%+v", perRole, noDetails)
	}
}

func TestPodIndexMatchesPodsOf(t *testing.T) {
	var pods []corev1.Pod
	for i := range 50 {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%d", i), Namespace: fmt.Sprintf("ns-%d", i%3)}, Spec: corev1.PodSpec{ServiceAccountName: fmt.Sprintf("sa-%d", i%4)}}
		if i%5 == 0 {
			p.Spec.ServiceAccountName = "" // runs as "default"
		}
		pods = append(pods, p)
	}
	idx := IndexPods(pods)
	for ns := range 3 {
		for _, sa := range []string{"sa-0", "sa-1", "sa-2", "sa-3", "default", "none"} {
			n := fmt.Sprintf("ns-%d", ns)
			if want, got := PodsOf(pods, n, sa), idx.Of(n, sa); !reflect.DeepEqual(want, got) {
				t.Errorf("%s/%s: index %d pods, PodsOf %d", n, sa, len(got), len(want))
			}
		}
	}
}
