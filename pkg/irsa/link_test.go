package irsa

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// fakeIAM is an in-memory IAM holding roles, inline policies and providers, recording writes.
type fakeIAM struct {
	IAMAPI
	roles     map[string]*iamtypes.Role
	inline    map[string]string
	attached  map[string][]string
	providers map[string][]string
	writes    []string
}

func newFakeIAM() *fakeIAM {
	return &fakeIAM{roles: map[string]*iamtypes.Role{}, inline: map[string]string{}, attached: map[string][]string{}, providers: map[string][]string{}}
}

func notFound() error { return &iamtypes.NoSuchEntityException{Message: aws.String("not found")} }

func (f *fakeIAM) GetOpenIDConnectProvider(_ context.Context, in *iam.GetOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error) {
	ids, ok := f.providers[aws.ToString(in.OpenIDConnectProviderArn)]
	if !ok {
		return nil, notFound()
	}
	return &iam.GetOpenIDConnectProviderOutput{ClientIDList: ids}, nil
}

func (f *fakeIAM) CreateOpenIDConnectProvider(_ context.Context, in *iam.CreateOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.CreateOpenIDConnectProviderOutput, error) {
	f.writes = append(f.writes, "CreateOpenIDConnectProvider")
	f.providers["arn:aws:iam::123456789012:oidc-provider/"+trust.HostPath(aws.ToString(in.Url))] = in.ClientIDList
	return &iam.CreateOpenIDConnectProviderOutput{}, nil
}

func (f *fakeIAM) DeleteOpenIDConnectProvider(_ context.Context, in *iam.DeleteOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.DeleteOpenIDConnectProviderOutput, error) {
	f.writes = append(f.writes, "DeleteOpenIDConnectProvider")
	delete(f.providers, aws.ToString(in.OpenIDConnectProviderArn))
	return &iam.DeleteOpenIDConnectProviderOutput{}, nil
}

func (f *fakeIAM) AddClientIDToOpenIDConnectProvider(_ context.Context, in *iam.AddClientIDToOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.AddClientIDToOpenIDConnectProviderOutput, error) {
	f.writes = append(f.writes, "AddClientIDToOpenIDConnectProvider")
	arn := aws.ToString(in.OpenIDConnectProviderArn)
	f.providers[arn] = append(f.providers[arn], aws.ToString(in.ClientID))
	return &iam.AddClientIDToOpenIDConnectProviderOutput{}, nil
}

func (f *fakeIAM) RemoveClientIDFromOpenIDConnectProvider(_ context.Context, in *iam.RemoveClientIDFromOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.RemoveClientIDFromOpenIDConnectProviderOutput, error) {
	f.writes = append(f.writes, "RemoveClientIDFromOpenIDConnectProvider")
	arn := aws.ToString(in.OpenIDConnectProviderArn)
	f.providers[arn] = slices.DeleteFunc(f.providers[arn], func(id string) bool { return id == aws.ToString(in.ClientID) })
	return &iam.RemoveClientIDFromOpenIDConnectProviderOutput{}, nil
}

func (f *fakeIAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	r, ok := f.roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, notFound()
	}
	copy := *r
	copy.AssumeRolePolicyDocument = aws.String(url.QueryEscape(aws.ToString(r.AssumeRolePolicyDocument)))
	return &iam.GetRoleOutput{Role: &copy}, nil
}

func (f *fakeIAM) CreateRole(_ context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	f.writes = append(f.writes, "CreateRole")
	name := aws.ToString(in.RoleName)
	r := &iamtypes.Role{RoleName: in.RoleName, Arn: aws.String("arn:aws:iam::123456789012:role/" + name), AssumeRolePolicyDocument: in.AssumeRolePolicyDocument, Tags: in.Tags}
	f.roles[name] = r
	return &iam.CreateRoleOutput{Role: r}, nil
}

func (f *fakeIAM) DeleteRole(_ context.Context, in *iam.DeleteRoleInput, _ ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	f.writes = append(f.writes, "DeleteRole")
	delete(f.roles, aws.ToString(in.RoleName))
	return &iam.DeleteRoleOutput{}, nil
}

func (f *fakeIAM) UpdateAssumeRolePolicy(_ context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	f.writes = append(f.writes, "UpdateAssumeRolePolicy")
	f.roles[aws.ToString(in.RoleName)].AssumeRolePolicyDocument = in.PolicyDocument
	return &iam.UpdateAssumeRolePolicyOutput{}, nil
}

func (f *fakeIAM) GetRolePolicy(_ context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	doc, ok := f.inline[aws.ToString(in.RoleName)]
	if !ok {
		return nil, notFound()
	}
	return &iam.GetRolePolicyOutput{PolicyDocument: aws.String(doc)}, nil
}

func (f *fakeIAM) PutRolePolicy(_ context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	f.writes = append(f.writes, "PutRolePolicy")
	f.inline[aws.ToString(in.RoleName)] = aws.ToString(in.PolicyDocument)
	return &iam.PutRolePolicyOutput{}, nil
}

func (f *fakeIAM) DeleteRolePolicy(_ context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	f.writes = append(f.writes, "DeleteRolePolicy")
	delete(f.inline, aws.ToString(in.RoleName))
	return &iam.DeleteRolePolicyOutput{}, nil
}

func (f *fakeIAM) ListRolePolicies(_ context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	out := &iam.ListRolePoliciesOutput{}
	if _, ok := f.inline[aws.ToString(in.RoleName)]; ok {
		out.PolicyNames = []string{InlinePolicyName}
	}
	return out, nil
}

func (f *fakeIAM) ListAttachedRolePolicies(_ context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	out := &iam.ListAttachedRolePoliciesOutput{}
	for _, a := range f.attached[aws.ToString(in.RoleName)] {
		out.AttachedPolicies = append(out.AttachedPolicies, iamtypes.AttachedPolicy{PolicyArn: aws.String(a)})
	}
	return out, nil
}

type fakeSTS struct{}

func (fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{Account: aws.String("123456789012"), Arn: aws.String("arn:aws:iam::123456789012:user/admin")}, nil
}

const testIssuer = "https://oidc.eks.us-east-1.amazonaws.com/id/TESTTEST00"

// fakeKube has the namespace and ServiceAccount, allows everything, and fails SA patches when failPatch.
func fakeKube(failPatch bool) *fake.Clientset {
	kube := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "irsa-sample-ns"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "irsa-test", Namespace: "irsa-sample-ns"}},
	)
	kube.PrependReactor("create", "selfsubjectaccessreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authorizationv1.SelfSubjectAccessReview{Status: authorizationv1.SubjectAccessReviewStatus{Allowed: true}}, nil
	})
	if failPatch {
		kube.PrependReactor("patch", "serviceaccounts", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, errors.New("admission webhook denied the request")
		})
	}
	return kube
}

var seedRequest = LinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "irsa-test", RoleName: "irsa-role", Actions: []string{"eks:ListClusters"}}

func TestLinkThenUnchanged(t *testing.T) {
	f := newFakeIAM()
	l := &Linker{Kube: fakeKube(false), IAM: f, STS: fakeSTS{}, Issuer: testIssuer}
	ctx := context.Background()
	plan, err := l.Plan(ctx, seedRequest)
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Apply(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.writes, ","); got != "CreateOpenIDConnectProvider,CreateRole,PutRolePolicy" {
		t.Errorf("writes = %s", got)
	}
	for _, a := range res.Actions {
		if a.Status != StatusDone {
			t.Errorf("action %+v not done", a)
		}
	}
	f.writes = nil
	plan, err = l.Plan(ctx, seedRequest)
	if err != nil {
		t.Fatal(err)
	}
	res, err = l.Apply(ctx, plan)
	if err != nil || !res.Unchanged || len(f.writes) != 0 {
		t.Errorf("second run: unchanged=%v writes=%v err=%v", res.Unchanged, f.writes, err)
	}
}

// TestLinkRollsBackWhenAnnotationFails: no role or provider is left for a ServiceAccount that could not be
// annotated.
func TestLinkRollsBackWhenAnnotationFails(t *testing.T) {
	f := newFakeIAM()
	l := &Linker{Kube: fakeKube(true), IAM: f, STS: fakeSTS{}, Issuer: testIssuer}
	ctx := context.Background()
	plan, err := l.Plan(ctx, seedRequest)
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Apply(ctx, plan)
	if err == nil || !strings.Contains(err.Error(), "rolled back: delete role irsa-role, delete OIDC provider") {
		t.Fatalf("err = %v", err)
	}
	if len(f.roles) != 0 || len(f.providers) != 0 || len(f.inline) != 0 {
		t.Errorf("left behind: roles %v providers %v inline %v", f.roles, f.providers, f.inline)
	}
	var statuses []string
	for _, a := range res.Actions {
		statuses = append(statuses, a.Status)
	}
	if got := strings.Join(statuses, ","); got != "rolled-back,rolled-back,rolled-back,failed" {
		t.Errorf("statuses = %s", got)
	}
}

// TestLinkRestoresMergedTrust: a merge into someone's role is undone exactly when the annotation fails.
func TestLinkRestoresMergedTrust(t *testing.T) {
	f := newFakeIAM()
	foreign := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	f.roles["shared"] = &iamtypes.Role{RoleName: aws.String("shared"), Arn: aws.String("arn:aws:iam::123456789012:role/shared"), AssumeRolePolicyDocument: aws.String(foreign)}
	f.providers["arn:aws:iam::123456789012:oidc-provider/"+trust.HostPath(testIssuer)] = []string{"sts.amazonaws.com"}
	l := &Linker{Kube: fakeKube(true), IAM: f, STS: fakeSTS{}, Issuer: testIssuer}
	req := LinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "irsa-test", RoleName: "shared"}
	plan, err := l.Plan(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(context.Background(), plan); err == nil {
		t.Fatal("want an error")
	}
	if got := aws.ToString(f.roles["shared"].AssumeRolePolicyDocument); got != mustCompact(foreign) {
		t.Errorf("trust not restored:\n%s\n%s", got, foreign)
	}
}

func mustCompact(s string) string {
	d, err := trust.Parse(s)
	if err != nil {
		panic(err)
	}
	return d.String()
}

// TestLinkCustomAudienceRollsBackClientID: a client ID added to a shared provider is removed again when the
// run fails.
func TestLinkCustomAudienceRollsBackClientID(t *testing.T) {
	f := newFakeIAM()
	providerARN := "arn:aws:iam::123456789012:oidc-provider/" + trust.HostPath(testIssuer)
	f.providers[providerARN] = []string{"sts.amazonaws.com"}
	kube := fakeKube(true)
	sa, _ := kube.CoreV1().ServiceAccounts("irsa-sample-ns").Get(context.Background(), "irsa-test", metav1.GetOptions{})
	sa.Annotations = map[string]string{AudienceAnnotation: "custom-aud"}
	if _, err := kube.CoreV1().ServiceAccounts("irsa-sample-ns").Update(context.Background(), sa, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	l := &Linker{Kube: kube, IAM: f, STS: fakeSTS{}, Issuer: testIssuer}
	plan, err := l.Plan(context.Background(), LinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "irsa-test", RoleName: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Provider.MissingClientID != "custom-aud" {
		t.Fatalf("missing client ID = %q", plan.Provider.MissingClientID)
	}
	if _, err := l.Apply(context.Background(), plan); err == nil || !strings.Contains(err.Error(), "remove client ID custom-aud") {
		t.Fatalf("err = %v", err)
	}
	if got := f.providers[providerARN]; !slices.Equal(got, []string{"sts.amazonaws.com"}) {
		t.Errorf("client IDs after rollback = %v", got)
	}
}
