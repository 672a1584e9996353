package setup

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

const (
	testIssuer   = "https://oidc.eks.us-east-1.amazonaws.com/id/TESTTEST00"
	testHostPath = "oidc.eks.us-east-1.amazonaws.com/id/TESTTEST00"
)

// fakeKube has the namespace and ServiceAccount, allows everything, and fails SA patches when failPatch.
func fakeKube(failPatch bool, annotations map[string]string) *fake.Clientset {
	kube := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "irsa-sample-ns"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "irsa-test", Namespace: "irsa-sample-ns", Annotations: annotations}},
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

func newSetup(kube *fake.Clientset, cloud *fakeaws.AWS) *Setup {
	return &Setup{Kube: kube, IAM: cloud.IAM, Issuer: testIssuer,
		Caller: func(ctx context.Context) (awsapi.Caller, error) { return awsapi.WhoAmI(ctx, cloud.STS) }}
}

var seedRequest = LinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "irsa-test", RoleName: "irsa-role", Permissions: ActionsPolicy([]string{"eks:ListClusters"})}

func link(t *testing.T, s *Setup, req LinkRequest) (*api.Result, error) {
	t.Helper()
	plan, err := s.PlanLink(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return plan.Apply(context.Background())
}

func TestLinkThenUnchanged(t *testing.T) {
	cloud := fakeaws.New()
	s := newSetup(fakeKube(false, nil), cloud)
	res, err := link(t, s, seedRequest)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cloud.Writes(), ","); got != "CreateOpenIDConnectProvider,CreateRole,PutRolePolicy" {
		t.Errorf("writes = %s", got)
	}
	for _, a := range res.Actions {
		if a.Status != api.StatusDone {
			t.Errorf("action %+v not done", a)
		}
	}
	before := len(cloud.Writes())
	res, err = link(t, s, seedRequest)
	if err != nil || !res.Unchanged || len(cloud.Writes()) != before {
		t.Errorf("second run: unchanged=%v writes=%v err=%v", res.Unchanged, cloud.Writes()[before:], err)
	}
}

// TestLinkRollsBackWhenAnnotationFails: no role or provider is left for a ServiceAccount that could not be
// annotated.
func TestLinkRollsBackWhenAnnotationFails(t *testing.T) {
	cloud := fakeaws.New()
	res, err := link(t, newSetup(fakeKube(true, nil), cloud), seedRequest)
	sid := PolicySid("irsa-sample-ns", "irsa-test")
	if err == nil || !strings.Contains(err.Error(), "rolled back: remove statement "+sid+" from inline policy kubectl-irsa of role irsa-role, remove this run's subjects from role irsa-role (deleted when none remain), delete OIDC provider") {
		t.Fatalf("err = %v", err)
	}
	if cloud.IAM.Trust("irsa-role") != "" || cloud.IAM.ProviderClientIDs(testHostPath) != nil {
		t.Errorf("left behind: role %q provider %v", cloud.IAM.Trust("irsa-role"), cloud.IAM.ProviderClientIDs(testHostPath))
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
	cloud := fakeaws.New()
	foreign := mustCompact(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	cloud.IAM.AddRole("", "shared", foreign)
	cloud.IAM.AddProvider(testHostPath, iamref.DefaultAudience)
	if _, err := link(t, newSetup(fakeKube(true, nil), cloud), LinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "irsa-test", RoleName: "shared"}); err == nil {
		t.Fatal("want an error")
	}
	if got := cloud.IAM.Trust("shared"); got != foreign {
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
	cloud := fakeaws.New()
	cloud.IAM.AddProvider(testHostPath, iamref.DefaultAudience)
	s := newSetup(fakeKube(true, map[string]string{iamref.AudienceAnnotation: "custom-aud"}), cloud)
	plan, err := s.PlanLink(context.Background(), LinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "irsa-test", RoleName: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Provider.MissingClientID != "custom-aud" {
		t.Fatalf("missing client ID = %q", plan.Provider.MissingClientID)
	}
	if _, err := plan.Apply(context.Background()); err == nil || !strings.Contains(err.Error(), "remove client ID custom-aud") {
		t.Fatalf("err = %v", err)
	}
	if got := cloud.IAM.ProviderClientIDs(testHostPath); !slices.Equal(got, []string{iamref.DefaultAudience}) {
		t.Errorf("client IDs after rollback = %v", got)
	}
}

// TestLinkRoleARNMustMatchWithPath: an ARN naming a role at another path is not that role.
func TestLinkRoleARNMustMatchWithPath(t *testing.T) {
	cloud := fakeaws.New()
	cloud.IAM.AddRole("/team/", "app", mustCompact(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`))
	s := newSetup(fakeKube(false, nil), cloud)
	wrong, _ := iamref.ParseRole("arn:aws:iam::" + fakeaws.Account + ":role/app")
	_, err := s.PlanLink(context.Background(), LinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "irsa-test", RoleARN: &wrong})
	if !errors.Is(err, ErrRoleMissing) || !strings.Contains(err.Error(), "role/team/app") || strings.Contains(err.Error(), "--") {
		t.Errorf("err = %v", err)
	}
	right, _ := iamref.ParseRole("arn:aws:iam::" + fakeaws.Account + ":role/team/app")
	plan, err := s.PlanLink(context.Background(), LinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: "irsa-test", RoleARN: &right})
	if err != nil || plan.RoleARN != right.ARN {
		t.Errorf("plan %+v, err %v", plan, err)
	}
}

func TestDeleteRoleReadsEveryPage(t *testing.T) {
	cloud := fakeaws.New()
	cloud.PageSize = 1
	cloud.IAM.AddRole("", "r", mustCompact(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`))
	for _, p := range []string{"a", "b", "c"} {
		cloud.IAM.PutInline("r", p, `{}`)
	}
	for _, p := range []string{"x", "y"} {
		_, _ = cloud.IAM.AttachRolePolicy(context.Background(), attachInput("r", cloud.IAM.AddManagedPolicy(p, `{}`)))
	}
	if err := DeleteRole(context.Background(), cloud.IAM, "r"); err != nil {
		t.Fatal(err)
	}
	w := cloud.Writes()
	if count := func(op string) int {
		return len(slices.DeleteFunc(slices.Clone(w), func(c string) bool { return c != op }))
	}; count("DeleteRolePolicy") != 3 || count("DetachRolePolicy") != 2 || count("DeleteRole") != 1 {
		t.Errorf("writes = %v", w)
	}
}

func TestPermissions(t *testing.T) {
	if acts, err := ParseActions([]string{"eks:ListClusters", " s3:Get*", ""}); err != nil || len(acts) != 2 {
		t.Errorf("ParseActions = %v, %v", acts, err)
	}
	for _, bad := range []string{"ListClusters", "eks:", "eks:List Clusters", ":x", "EKS:ListClusters"} {
		if _, err := ParseActions([]string{bad}); err == nil || strings.Contains(err.Error(), "--") {
			t.Errorf("ParseActions(%q) = %v", bad, err)
		}
	}
	if p := ActionsPolicy([]string{"eks:ListClusters"}); p.Document != `{"Statement":[{"Action":["eks:ListClusters"],"Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}` || p.Summary() != "allowing eks:ListClusters" {
		t.Errorf("policy = %+v", p)
	}
	for _, bad := range []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}`, `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:*"}]}`, `{"Version":"2012-10-17"}`, `{"Statement":`} {
		_, err := DocumentPolicy([]byte(bad))
		if !errors.Is(err, ErrPolicyDocument) || strings.Contains(err.Error(), "trust policy") {
			t.Errorf("DocumentPolicy(%s) = %v", bad, err)
		}
	}
	p, err := DocumentPolicy([]byte(`%7B%22Statement%22%3A%5B%7B%22Resource%22%3A%22%2A%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Effect%22%3A%22Allow%22%7D%5D%2C%22Version%22%3A%222012-10-17%22%7D`))
	want, _ := NormalizePolicy(`{"Version": "2012-10-17", "Statement": [{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	if err != nil || p.Document != want || p.Summary() != "allowing s3:*" {
		t.Errorf("decoded policy %+v, %v; want %s", p, err, want)
	}
}

func TestDefaultRoleName(t *testing.T) {
	if got := DefaultRoleName("prod", "irsa-sample-ns", "irsa-test"); got != "irsa-prod-irsa-sample-ns-irsa-test" {
		t.Errorf("short name = %s", got)
	}
	long1 := DefaultRoleName("a-very-long-cluster-name", "a-very-long-namespace-name", "service-account-one")
	long2 := DefaultRoleName("a-very-long-cluster-name", "a-very-long-namespace-name", "service-account-two")
	if len(long1) > iamref.MaxRoleNameLength || len(long2) > iamref.MaxRoleNameLength || long1 == long2 {
		t.Errorf("long names %q (%d) and %q (%d)", long1, len(long1), long2, len(long2))
	}
	if iamref.ValidateRoleName(long1) != nil {
		t.Errorf("derived name %q invalid", long1)
	}
}

func attachInput(role, policyARN string) *iam.AttachRolePolicyInput {
	return &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(policyARN)}
}

// TestLinkProviderCreatedMeanwhile: pipelines linking on a fresh cluster at once all plan the provider's
// creation; the runs whose CreateOpenIDConnectProvider finds it created succeed (the step is unchanged, the
// audience added when missing), and a rollback never deletes a provider another run created.
func TestLinkProviderCreatedMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		name      string
		clientIDs []string
		failPatch bool
	}{
		{"with the audience", []string{iamref.DefaultAudience}, false},
		{"without the audience", []string{"other.example.com"}, false},
		{"then rolled back", []string{iamref.DefaultAudience}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cloud := fakeaws.New()
			s := newSetup(fakeKube(tc.failPatch, nil), cloud)
			plan, err := s.PlanLink(context.Background(), seedRequest)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cloud.IAM.CreateOpenIDConnectProvider(context.Background(), &iam.CreateOpenIDConnectProviderInput{
				Url: aws.String(testIssuer), ClientIDList: tc.clientIDs}); err != nil {
				t.Fatal(err)
			}
			res, err := plan.Apply(context.Background())
			providerARN := trust.NewProvider("aws", fakeaws.Account, testIssuer).ARN
			got, gerr := cloud.IAM.GetOpenIDConnectProvider(context.Background(), &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN)})
			if gerr != nil {
				t.Fatalf("the provider another run created is gone: %v (apply: %v)", gerr, err)
			}
			if tc.failPatch {
				if err == nil {
					t.Fatal("the annotation failed and apply succeeded")
				}
				return
			}
			if err != nil {
				t.Fatalf("apply after another run created the provider: %v", err)
			}
			if !slices.Contains(got.ClientIDList, iamref.DefaultAudience) {
				t.Errorf("client IDs %v lack %s", got.ClientIDList, iamref.DefaultAudience)
			}
			for _, a := range res.Actions {
				if strings.HasPrefix(a.Resource, "oidc-provider/") && a.Status != api.StatusUnchanged {
					t.Errorf("provider action %+v, want unchanged", a)
				}
			}
		})
	}
}
