package e2e

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/eksauth"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

const podIdentityTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`

// eksClient is the real aws-sdk-go-v2 EKS client on the sandbox's AWS endpoint (its proxy: emulated Pod Identity
// and add-on APIs, moto for the rest), as the plugin gets it through AWS_ENDPOINT_URL.
func eksClient() *eks.Client {
	return eks.New(eks.Options{Region: sandbox.Region, BaseEndpoint: aws.String(sb.AWSEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, "")})
}

// createRole creates a role in moto (sandbox account) and returns its ARN; the test's end deletes it with its
// policies, so that cluster-wide scans in other tests do not meet it.
func createRole(t *testing.T, name, trustDoc string) string {
	t.Helper()
	ctx := context.Background()
	out, err := iamClient.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trustDoc)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if inline, err := iamClient.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)}); err == nil {
			for _, p := range inline.PolicyNames {
				_, _ = iamClient.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(p)})
			}
		}
		if attached, err := iamClient.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)}); err == nil {
			for _, p := range attached.AttachedPolicies {
				_, _ = iamClient.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: p.PolicyArn})
			}
		}
		if _, err := iamClient.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil {
			t.Logf("delete role %s: %v", name, err)
		}
	})
	return aws.ToString(out.Role.Arn)
}

// createPodIdentityRole creates a role trusting pods.eks.amazonaws.com as EKS Pod Identity requires.
func createPodIdentityRole(t *testing.T, name string) string {
	t.Helper()
	return createRole(t, name, podIdentityTrust)
}

// sandboxEKSAuth is the project's EKS Auth client (pkg/awsapi/eksauth) on the sandbox's AWS endpoint; nil
// credentials send unsigned requests.
func sandboxEKSAuth(t *testing.T, creds aws.CredentialsProvider) *eksauth.Client {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL_EKS_AUTH", "") // the sandbox's endpoint, whatever the environment says
	c := eksauth.New(aws.Config{Region: sandbox.Region, BaseEndpoint: aws.String(sb.AWSEndpoint), Credentials: creds})
	if c.Endpoint() != sb.AWSEndpoint {
		t.Fatalf("EKS Auth endpoint %s, want %s", c.Endpoint(), sb.AWSEndpoint)
	}
	return c
}

func apiErrorCode(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

var associationARN = regexp.MustCompile(`^arn:aws:eks:us-east-1:123456789012:podidentityassociation/irsa-sandbox/(a-[a-z0-9]{17})$`)

// TestSandboxPodIdentityAssociations drives the emulated association API with the real aws-sdk-go-v2 EKS client:
// create (with its refusals), list under one-item pages with filters, describe, update, delete.
func TestSandboxPodIdentityAssociations(t *testing.T) {
	ctx := context.Background()
	client := eksClient()
	good := createPodIdentityRole(t, "pia-good")
	noTag := createRole(t, "pia-no-tag", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	irsaOnly := createRole(t, "pia-irsa", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.example.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`)
	create := func(cluster, ns, sa, role string) (*eks.CreatePodIdentityAssociationOutput, error) {
		return client.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{
			ClusterName: aws.String(cluster), Namespace: aws.String(ns), ServiceAccount: aws.String(sa), RoleArn: aws.String(role)})
	}

	// Refusals, each with the typed error the SDK decodes from x-amzn-ErrorType.
	_, err := create("no-such-cluster", "pia", "app", good)
	var nf *ekstypes.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), "no-such-cluster") {
		t.Errorf("unknown cluster: %v", err)
	}
	for _, role := range []string{noTag, irsaOnly} {
		_, err = create(sandbox.ClusterName, "pia", "app", role)
		var ip *ekstypes.InvalidParameterException
		if !errors.As(err, &ip) || !strings.Contains(ip.ErrorMessage(), "Trust policy of the role provided is invalid") {
			t.Errorf("role %s: %v", role, err)
		}
	}
	_, err = create(sandbox.ClusterName, "pia", "app", "arn:aws:iam::123456789012:role/pia-missing")
	if apiErrorCode(err) != "InvalidParameterException" {
		t.Errorf("missing role: %v", err)
	}
	if n := len(sb.EKS.Associations()); n != 0 {
		t.Fatalf("refused creates stored %d associations", n)
	}

	// Create with every optional field.
	out, err := client.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{
		ClusterName: aws.String(sandbox.ClusterName), Namespace: aws.String("pia"), ServiceAccount: aws.String("app"),
		RoleArn: aws.String(good), Tags: map[string]string{"team": "platform"}, DisableSessionTags: aws.Bool(true),
		TargetRoleArn: aws.String("arn:aws:iam::" + sandbox.SecondAccount + ":role/target"),
	})
	if err != nil {
		t.Fatal(err)
	}
	a := out.Association
	m := associationARN.FindStringSubmatch(aws.ToString(a.AssociationArn))
	if m == nil || m[1] != aws.ToString(a.AssociationId) || aws.ToString(a.RoleArn) != good || a.Tags["team"] != "platform" ||
		!aws.ToBool(a.DisableSessionTags) || aws.ToString(a.TargetRoleArn) != "arn:aws:iam::"+sandbox.SecondAccount+":role/target" ||
		aws.ToString(a.ExternalId) == "" || a.CreatedAt == nil || time.Since(*a.CreatedAt) > time.Minute {
		t.Errorf("created association: %+v", a)
	}
	first := aws.ToString(a.AssociationId)
	t.Cleanup(func() {
		for _, a := range sb.EKS.Associations() {
			if a.Namespace == "pia" || a.Namespace == "pia-other" {
				_, _ = client.DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: aws.String(a.AssociationID)})
			}
		}
	})
	_, err = create(sandbox.ClusterName, "pia", "app", good)
	var inUse *ekstypes.ResourceInUseException
	if !errors.As(err, &inUse) || inUse.ErrorMessage() != "Association already exists: "+first {
		t.Errorf("duplicate: %v", err)
	}
	for _, sa := range []string{"b", "c", "d"} {
		if _, err := create(sandbox.ClusterName, "pia", sa, good); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := create(sandbox.ClusterName, "pia-other", "app", good); err != nil {
		t.Fatal(err)
	}

	// List walks every page: one item per page in one-item mode.
	sb.AWS.SetOneItemPages(true)
	defer sb.AWS.SetOneItemPages(false)
	counter.Reset()
	list := func(in *eks.ListPodIdentityAssociationsInput) []ekstypes.PodIdentityAssociationSummary {
		t.Helper()
		var items []ekstypes.PodIdentityAssociationSummary
		p := eks.NewListPodIdentityAssociationsPaginator(client, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Associations) > 1 {
				t.Errorf("page of %d items in one-item mode", len(page.Associations))
			}
			items = append(items, page.Associations...)
		}
		return items
	}
	all := list(&eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(sandbox.ClusterName)})
	if len(all) != 5 {
		t.Errorf("listed %d associations, want 5: %+v", len(all), all)
	}
	calls := 0
	for _, c := range counter.Calls() {
		if c == "eks:ListPodIdentityAssociations" {
			calls++
		}
	}
	if calls != 5 {
		t.Errorf("%d ListPodIdentityAssociations calls for 5 one-item pages: %v", calls, counter.Calls())
	}
	inNS := list(&eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(sandbox.ClusterName), Namespace: aws.String("pia")})
	one := list(&eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(sandbox.ClusterName), Namespace: aws.String("pia"), ServiceAccount: aws.String("c")})
	if len(inNS) != 4 || len(one) != 1 || aws.ToString(one[0].ServiceAccount) != "c" || aws.ToString(one[0].ClusterName) != sandbox.ClusterName {
		t.Errorf("filters: namespace %d items, namespace+serviceAccount %+v", len(inNS), one)
	}
	sb.AWS.SetOneItemPages(false)
	page, err := client.ListPodIdentityAssociations(ctx, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(sandbox.ClusterName), MaxResults: aws.Int32(2)})
	if err != nil || len(page.Associations) != 2 || page.NextToken == nil {
		t.Errorf("maxResults 2: %+v %v", page, err)
	}
	_, err = client.ListPodIdentityAssociations(ctx, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(sandbox.ClusterName), NextToken: aws.String("bogus")})
	if apiErrorCode(err) != "InvalidParameterException" {
		t.Errorf("bad nextToken: %v", err)
	}

	// Describe, update, delete.
	d, err := client.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: aws.String(first)})
	if err != nil || aws.ToString(d.Association.RoleArn) != good || aws.ToString(d.Association.Namespace) != "pia" || d.Association.Tags["team"] != "platform" {
		t.Fatalf("describe: %+v %v", d, err)
	}
	u, err := client.UpdatePodIdentityAssociation(ctx, &eks.UpdatePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: aws.String(first),
		DisableSessionTags: aws.Bool(false), TargetRoleArn: aws.String("")})
	if err != nil || aws.ToBool(u.Association.DisableSessionTags) || aws.ToString(u.Association.TargetRoleArn) != "" || !u.Association.ModifiedAt.After(*u.Association.CreatedAt) && !u.Association.ModifiedAt.Equal(*u.Association.CreatedAt) {
		t.Errorf("update: %+v %v", u, err)
	}
	_, err = client.UpdatePodIdentityAssociation(ctx, &eks.UpdatePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: aws.String(first), RoleArn: aws.String(noTag)})
	if apiErrorCode(err) != "InvalidParameterException" {
		t.Errorf("update to a role without the trust: %v", err)
	}
	if _, err := client.DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: aws.String(first)}); err != nil {
		t.Fatal(err)
	}
	_, err = client.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: aws.String(first)})
	if !errors.As(err, &nf) {
		t.Errorf("describe after delete: %v", err)
	}
	_, err = client.DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: aws.String(first)})
	if !errors.As(err, &nf) {
		t.Errorf("second delete: %v", err)
	}
}

// TestSandboxPodIdentityAgentAddon: the agent add-on through the real EKS client, with its DaemonSet in kube-system.
func TestSandboxPodIdentityAgentAddon(t *testing.T) {
	ctx := context.Background()
	client := eksClient()
	_, err := client.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(sandbox.ClusterName), AddonName: aws.String(sandbox.PodIdentityAgentAddon)})
	if apiErrorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("agent before install: %v", err)
	}
	out, err := client.CreateAddon(ctx, &eks.CreateAddonInput{ClusterName: aws.String(sandbox.ClusterName), AddonName: aws.String(sandbox.PodIdentityAgentAddon)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteAddon(ctx, &eks.DeleteAddonInput{ClusterName: aws.String(sandbox.ClusterName), AddonName: aws.String(sandbox.PodIdentityAgentAddon)})
	})
	if out.Addon.Status != ekstypes.AddonStatusActive || !strings.HasPrefix(aws.ToString(out.Addon.AddonArn), "arn:aws:eks:us-east-1:123456789012:addon/irsa-sandbox/eks-pod-identity-agent/") {
		t.Errorf("created add-on: %+v", out.Addon)
	}
	list, err := client.ListAddons(ctx, &eks.ListAddonsInput{ClusterName: aws.String(sandbox.ClusterName)})
	if err != nil || len(list.Addons) != 1 || list.Addons[0] != sandbox.PodIdentityAgentAddon {
		t.Errorf("list add-ons: %+v %v", list, err)
	}
	ds, err := kube.AppsV1().DaemonSets("kube-system").Get(ctx, sandbox.PodIdentityAgentAddon, metav1.GetOptions{})
	if err != nil || !ds.Spec.Template.Spec.HostNetwork {
		t.Errorf("agent DaemonSet: %v", err)
	}
	entries, err := client.ListAccessEntries(ctx, &eks.ListAccessEntriesInput{ClusterName: aws.String(sandbox.ClusterName)})
	if err != nil || entries.AccessEntries == nil {
		t.Errorf("list access entries: %+v %v", entries, err)
	}
	if _, err := client.DeleteAddon(ctx, &eks.DeleteAddonInput{ClusterName: aws.String(sandbox.ClusterName), AddonName: aws.String(sandbox.PodIdentityAgentAddon)}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.AppsV1().DaemonSets("kube-system").Get(ctx, sandbox.PodIdentityAgentAddon, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("agent DaemonSet after delete: %v", err)
	}
}

// podToken asks the real kube-apiserver for a token of ns/sa bound to the pod.
func podToken(t *testing.T, ns, sa string, pod *corev1.Pod, audience string) string {
	t.Helper()
	tr, err := kube.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), sa, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences: []string{audience}, ExpirationSeconds: aws.Int64(3600),
		BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

func callerARN(t *testing.T, creds aws.Credentials) (string, string) {
	t.Helper()
	client := sts.New(sts.Options{Region: sandbox.Region, BaseEndpoint: aws.String(sb.AWSEndpoint), Credentials: credentials.StaticCredentialsProvider{Value: creds}})
	out, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Arn), aws.ToString(out.Account)
}

// TestSandboxAssumeRoleForPodIdentity: a token from the real kube-apiserver, bound to a pod, exchanged at EKS Auth
// for the associated role's credentials, which then act as the role in STS; and each way the exchange is refused.
func TestSandboxAssumeRoleForPodIdentity(t *testing.T) {
	ctx := context.Background()
	ns := "eksauth"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)
	createServiceAccount(t, ns, "lonely", nil)
	createServiceAccount(t, ns, "cross", nil)
	role := createPodIdentityRole(t, "eksauth-app")
	client := eksClient()
	assoc, err := client.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName),
		Namespace: aws.String(ns), ServiceAccount: aws.String("app"), RoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, a := range sb.EKS.Associations() {
			if a.Namespace == ns {
				_, _ = client.DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: aws.String(a.AssociationID)})
			}
		}
	})
	pod := createPlainPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app-1", Namespace: ns}, Spec: corev1.PodSpec{ServiceAccountName: "app", Containers: []corev1.Container{{Name: "c", Image: "x"}}}})
	auth := sandboxEKSAuth(t, credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, ""))

	counter.Reset()
	got, err := auth.AssumeRoleForPodIdentity(ctx, sandbox.ClusterName, podToken(t, ns, "app", pod, sandbox.PodIdentityAudience))
	if err != nil {
		t.Fatal(err)
	}
	if c := counter.Calls(); len(c) != 1 || c[0] != "eks-auth:AssumeRoleForPodIdentity" {
		t.Errorf("calls %v", c)
	}
	if got.Namespace != ns || got.ServiceAccount != "app" || got.Audience != sandbox.PodIdentityAudience ||
		got.AssociationID != aws.ToString(assoc.Association.AssociationId) || got.AssociationARN != aws.ToString(assoc.Association.AssociationArn) ||
		!strings.HasPrefix(got.AssumedRoleARN, "arn:aws:sts::123456789012:assumed-role/eksauth-app/eks-irsa-sandbox-app-1-") ||
		got.Credentials.AccessKeyID == "" || got.Credentials.Expires.Before(time.Now()) {
		t.Errorf("answer: %+v", got)
	}
	arn, acct := callerARN(t, got.Credentials)
	if arn != got.AssumedRoleARN || acct != sandbox.Account {
		t.Errorf("GetCallerIdentity with the pod's credentials: %s in %s, want %s", arn, acct, got.AssumedRoleARN)
	}
	sessions := sb.EKS.Sessions()
	last := sessions[len(sessions)-1]
	wantTags := map[string]string{
		"eks-cluster-arn": "arn:aws:eks:us-east-1:123456789012:cluster/irsa-sandbox", "eks-cluster-name": sandbox.ClusterName,
		"kubernetes-namespace": ns, "kubernetes-service-account": "app", "kubernetes-pod-name": "app-1", "kubernetes-pod-uid": string(pod.UID),
	}
	for k, v := range wantTags {
		if last.Tags[k] != v {
			t.Errorf("session tag %s = %q, want %q", k, last.Tags[k], v)
		}
	}

	// Refusals.
	expired, err := sb.MintToken(sandbox.TokenOptions{Namespace: ns, ServiceAccount: "app", Expiry: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := sb.MintToken(sandbox.TokenOptions{Namespace: ns, ServiceAccount: "app", ForeignKey: true})
	if err != nil {
		t.Fatal(err)
	}
	otherIssuer, err := sb.MintToken(sandbox.TokenOptions{Namespace: ns, ServiceAccount: "app", Issuer: "https://oidc.eks.us-east-1.amazonaws.com/id/OTHER"})
	if err != nil {
		t.Fatal(err)
	}
	lonelyPod := createPlainPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "lonely-1", Namespace: ns}, Spec: corev1.PodSpec{ServiceAccountName: "lonely", Containers: []corev1.Container{{Name: "c", Image: "x"}}}})
	unsigned := sandboxEKSAuth(t, nil)
	for _, c := range []struct {
		name, cluster, token, code string
		client                     *eksauth.Client
	}{
		{"audience sts.amazonaws.com", sandbox.ClusterName, podToken(t, ns, "app", pod, "sts.amazonaws.com"), "InvalidTokenException", auth},
		{"expired", sandbox.ClusterName, expired, "ExpiredTokenException", auth},
		{"foreign signing key", sandbox.ClusterName, foreign, "InvalidTokenException", auth},
		{"other issuer", sandbox.ClusterName, otherIssuer, "InvalidTokenException", auth},
		{"no association", sandbox.ClusterName, podToken(t, ns, "lonely", lonelyPod, sandbox.PodIdentityAudience), "ResourceNotFoundException", auth},
		{"unknown cluster", "no-such-cluster", podToken(t, ns, "app", pod, sandbox.PodIdentityAudience), "ResourceNotFoundException", auth},
		{"not a JWT", sandbox.ClusterName, "not-a-token", "InvalidParameterException", auth},
		{"unsigned request", sandbox.ClusterName, podToken(t, ns, "app", pod, sandbox.PodIdentityAudience), "AccessDeniedException", unsigned},
	} {
		_, err := c.client.AssumeRoleForPodIdentity(ctx, c.cluster, c.token)
		var ae *eksauth.Error
		if !errors.As(err, &ae) || ae.Code != c.code || ae.Message == "" {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}

	// The role's trust loses sts:TagSession after the association was made: STS refuses the tagged session...
	if _, err := iamClient.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("eksauth-app"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = auth.AssumeRoleForPodIdentity(ctx, sandbox.ClusterName, podToken(t, ns, "app", pod, sandbox.PodIdentityAudience))
	if apiErrorCode(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "sts:TagSession") {
		t.Errorf("trust without TagSession: %v", err)
	}
	// ...unless the association disables session tags.
	if _, err := client.UpdatePodIdentityAssociation(ctx, &eks.UpdatePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName),
		AssociationId: assoc.Association.AssociationId, DisableSessionTags: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.AssumeRoleForPodIdentity(ctx, sandbox.ClusterName, podToken(t, ns, "app", pod, sandbox.PodIdentityAudience)); err != nil {
		t.Errorf("session tags disabled: %v", err)
	} else if s := sb.EKS.Sessions(); len(s[len(s)-1].Tags) != 0 {
		t.Errorf("tags sent although disabled: %v", s[len(s)-1].Tags)
	}

	// A target role in the second account: the pod's credentials act there.
	second, err := sb.AccountCredentials(ctx, sandbox.SecondAccount)
	if err != nil {
		t.Fatal(err)
	}
	iam2 := iam.New(iam.Options{Region: sandbox.Region, BaseEndpoint: aws.String(sb.MotoEndpoint), Credentials: credentials.StaticCredentialsProvider{Value: second}})
	target, err := iam2.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("eksauth-target"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + createPodIdentityRole(t, "eksauth-cross") + `"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName),
		Namespace: aws.String(ns), ServiceAccount: aws.String("cross"), RoleArn: aws.String("arn:aws:iam::123456789012:role/eksauth-cross"),
		TargetRoleArn: target.Role.Arn}); err != nil {
		t.Fatal(err)
	}
	crossPod := createPlainPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "cross-1", Namespace: ns}, Spec: corev1.PodSpec{ServiceAccountName: "cross", Containers: []corev1.Container{{Name: "c", Image: "x"}}}})
	crossOut, err := auth.AssumeRoleForPodIdentity(ctx, sandbox.ClusterName, podToken(t, ns, "cross", crossPod, sandbox.PodIdentityAudience))
	if err != nil {
		t.Fatal(err)
	}
	arn, acct = callerARN(t, crossOut.Credentials)
	if acct != sandbox.SecondAccount || !strings.HasPrefix(arn, "arn:aws:sts::"+sandbox.SecondAccount+":assumed-role/eksauth-target/") {
		t.Errorf("target role credentials act as %s in %s", arn, acct)
	}
}
