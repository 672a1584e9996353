package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// proxiedIAM is the real IAM client on the sandbox's AWS proxy (calls counted, modes in effect).
func proxiedIAM(creds aws.Credentials) *iam.Client {
	return iam.New(iam.Options{Region: sandbox.Region, BaseEndpoint: aws.String(sb.AWSEndpoint), Credentials: credentials.StaticCredentialsProvider{Value: creds}})
}

func sandboxCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: sandbox.AccessKeyID, SecretAccessKey: sandbox.SecretAccessKey}
}

func countCalls(op string) int {
	n := 0
	for _, c := range counter.Calls() {
		if c == op {
			n++
		}
	}
	return n
}

// TestSandboxOneItemPages: with one-item pages on, the SDK paginators get one item per IAM page, ListRolePolicies
// included (moto ignores its MaxItems: the proxy cuts it), and still see everything.
func TestSandboxOneItemPages(t *testing.T) {
	ctx := context.Background()
	role := "pages-role"
	createRole(t, role, podIdentityTrust)
	var policies []string
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("inline-%d", i)
		policies = append(policies, name)
		if _, err := iamClient.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)}); err != nil {
			t.Fatal(err)
		}
		p, err := iamClient.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("pages-managed-%d", i)),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := iamClient.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: p.Policy.Arn}); err != nil {
			t.Fatal(err)
		}
	}
	allRoles, err := iamClient.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1000)})
	if err != nil {
		t.Fatal(err)
	}

	client := proxiedIAM(sandboxCreds())
	sb.AWS.SetOneItemPages(true)
	defer sb.AWS.SetOneItemPages(false)
	counter.Reset()

	var inline []string
	for p := iam.NewListRolePoliciesPaginator(client, &iam.ListRolePoliciesInput{RoleName: aws.String(role)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.PolicyNames) != 1 {
			t.Errorf("ListRolePolicies page of %d", len(page.PolicyNames))
		}
		inline = append(inline, page.PolicyNames...)
	}
	slices.Sort(inline)
	if !slices.Equal(inline, policies) || countCalls("iam:ListRolePolicies") != 3 {
		t.Errorf("inline policies %v in %d calls", inline, countCalls("iam:ListRolePolicies"))
	}
	var attached []iamtypes.AttachedPolicy
	for p := iam.NewListAttachedRolePoliciesPaginator(client, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.AttachedPolicies) > 1 {
			t.Errorf("ListAttachedRolePolicies page of %d", len(page.AttachedPolicies))
		}
		attached = append(attached, page.AttachedPolicies...)
	}
	// moto marks the page of the last item truncated and answers one more, empty, page (IAM may do so too).
	if n := countCalls("iam:ListAttachedRolePolicies"); len(attached) != 3 || n < 3 || n > 4 {
		t.Errorf("%d attached policies in %d calls", len(attached), countCalls("iam:ListAttachedRolePolicies"))
	}
	roles := 0
	for p := iam.NewListRolesPaginator(client, &iam.ListRolesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		roles += len(page.Roles)
	}
	if roles != len(allRoles.Roles) || countCalls("iam:ListRoles") != roles {
		t.Errorf("%d roles in %d calls, moto has %d", roles, countCalls("iam:ListRoles"), len(allRoles.Roles))
	}

	// Off again: ListRolePolicies answers in one page; an explicit MaxItems is still honoured, as IAM does.
	sb.AWS.SetOneItemPages(false)
	out, err := client.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	if err != nil || len(out.PolicyNames) != 3 || out.IsTruncated {
		t.Errorf("one page: %+v %v", out, err)
	}
	out, err = client.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role), MaxItems: aws.Int32(2)})
	if err != nil || len(out.PolicyNames) != 2 || !out.IsTruncated || out.Marker == nil {
		t.Errorf("MaxItems 2: %+v %v", out, err)
	}
}

// TestSandboxFaultInjection: an AccessDenied injected on iam:GetRolePolicy for one role, in IAM's XML error format.
func TestSandboxFaultInjection(t *testing.T) {
	ctx := context.Background()
	for _, role := range []string{"fault-denied", "fault-open"} {
		createRole(t, role, podIdentityTrust)
		if _, err := iamClient.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("p"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)}); err != nil {
			t.Fatal(err)
		}
	}
	client := proxiedIAM(sandboxCreds())
	get := func(role string) error {
		_, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("p")})
		return err
	}
	remove := sb.AWS.InjectFault(sandbox.Fault{Operation: "iam:GetRolePolicy", RoleName: "fault-denied"})
	err := get("fault-denied")
	var re *smithyhttp.ResponseError
	if apiErrorCode(err) != "AccessDenied" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden ||
		!strings.Contains(err.Error(), "is not authorized to perform: iam:GetRolePolicy on resource: role fault-denied") {
		t.Errorf("injected fault: %v", err)
	}
	if err := get("fault-open"); err != nil {
		t.Errorf("fault leaked to another role: %v", err)
	}
	remove()
	if err := get("fault-denied"); err != nil {
		t.Errorf("after removing the fault: %v", err)
	}
	// EKS answers in its JSON format: the SDK decodes the typed AccessDeniedException (403).
	removeEKS := sb.AWS.InjectFault(sandbox.Fault{Operation: "eks:CreatePodIdentityAssociation", RoleName: "fault-denied"})
	_, err = eksClient().CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName),
		Namespace: aws.String("fault"), ServiceAccount: aws.String("app"), RoleArn: aws.String("arn:aws:iam::" + account + ":role/fault-denied")})
	var denied *ekstypes.AccessDeniedException
	if !errors.As(err, &denied) || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("injected EKS fault: %v", err)
	}
	if _, stored := sb.EKS.AssociationFor(sandbox.ClusterName, "fault", "app"); stored {
		t.Error("a refused create stored its association")
	}
	removeEKS()
	// Every role, and a custom code.
	sb.AWS.InjectFault(sandbox.Fault{Operation: "iam:GetRolePolicy", Code: "ServiceFailure", Status: http.StatusInternalServerError, Message: "boom"})
	defer sb.AWS.ClearFaults()
	if err := get("fault-open"); apiErrorCode(err) != "ServiceFailure" {
		t.Errorf("custom fault: %v", err)
	}
}

// TestSandboxSecondAccount: credentials from AccountCredentials act in the second account, whose roles the first
// account does not see.
func TestSandboxSecondAccount(t *testing.T) {
	ctx := context.Background()
	creds, err := sb.AccountCredentials(ctx, sandbox.SecondAccount)
	if err != nil {
		t.Fatal(err)
	}
	out, err := sts.New(sts.Options{Region: sandbox.Region, BaseEndpoint: aws.String(sb.AWSEndpoint), Credentials: credentials.StaticCredentialsProvider{Value: creds}}).
		GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != sandbox.SecondAccount {
		t.Fatalf("caller: %+v %v", out, err)
	}
	second := proxiedIAM(creds)
	r, err := second.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("second-only"), AssumeRolePolicyDocument: aws.String(podIdentityTrust)})
	if err != nil || aws.ToString(r.Role.Arn) != "arn:aws:iam::"+sandbox.SecondAccount+":role/second-only" {
		t.Fatalf("create in second account: %+v %v", r, err)
	}
	var nse *iamtypes.NoSuchEntityException
	if _, err := iamClient.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("second-only")}); !errors.As(err, &nse) {
		t.Errorf("second account's role visible from the first: %v", err)
	}
	env, err := sb.AccountEnv(ctx, sandbox.SecondAccount)
	if err != nil || !slices.Contains(env, "AWS_ACCESS_KEY_ID="+creds.AccessKeyID) || !slices.Contains(env, "AWS_SESSION_TOKEN="+creds.SessionToken) {
		t.Errorf("AccountEnv: %v %v", env, err)
	}
}
