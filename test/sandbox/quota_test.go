package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// trustOfSize is a valid trust policy of exactly n characters without whitespace, indented (so its raw length is
// well over n: the whitespace must not count).
func trustOfSize(t *testing.T, n int) string {
	t.Helper()
	const head, tail = `{"Version":"2012-10-17","Statement":[{"Sid":"`, `","Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
	pad := n - len(head) - len(tail)
	if pad < 1 {
		t.Fatalf("trust of %d characters is too short", n)
	}
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(head+strings.Repeat("P", pad)+tail), "", "    "); err != nil {
		t.Fatal(err)
	}
	if policySize(b.String()) != n || b.Len() <= n {
		t.Fatalf("trustOfSize(%d): %d non-whitespace of %d", n, policySize(b.String()), b.Len())
	}
	return b.String()
}

// wantLimitExceeded checks IAM's refusal of an oversized trust as the SDK sees it: HTTP 409, LimitExceeded, and
// IAM's message naming the quota.
func wantLimitExceeded(t *testing.T, what string, err error, quota int) {
	t.Helper()
	var le *iamtypes.LimitExceededException
	var re *awshttp.ResponseError
	want := fmt.Sprintf("Cannot exceed quota for ACLSizePerRole: %d", quota)
	if !errors.As(err, &le) || le.ErrorCode() != "LimitExceeded" || le.ErrorMessage() != want ||
		!errors.As(err, &re) || re.HTTPStatusCode() != http.StatusConflict {
		t.Errorf("%s: got %v, want 409 LimitExceeded %q", what, err, want)
	}
}

func accountQuota(t *testing.T, client *iam.Client) int32 {
	t.Helper()
	out, err := client.GetAccountSummary(context.Background(), &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatal(err)
	}
	if out.SummaryMap["RolesQuota"] == 0 {
		t.Errorf("GetAccountSummary lost moto's other entries: %v", out.SummaryMap)
	}
	return out.SummaryMap[string(iamtypes.SummaryKeyTypeAssumeRolePolicySizeQuota)]
}

// TestTrustSizeQuota: through the real IAM client against the sandbox's proxy, a trust over the account's quota
// (counted without whitespace) is refused as IAM refuses it, on CreateRole and UpdateAssumeRolePolicy, one at the
// quota is accepted, a raised quota admits more, GetAccountSummary reports the quota enforced, and quotas are per
// account.
func TestTrustSizeQuota(t *testing.T) {
	s, _ := emulatorOnMoto(t)
	ctx := context.Background()
	client := iam.New(iam.Options{Region: Region, BaseEndpoint: aws.String(s.AWSEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")})
	atQuota, overQuota := trustOfSize(t, DefaultTrustSizeQuota), trustOfSize(t, DefaultTrustSizeQuota+1)

	if q := accountQuota(t, client); q != DefaultTrustSizeQuota {
		t.Errorf("default quota reported %d, want %d", q, DefaultTrustSizeQuota)
	}
	_, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("big"), AssumeRolePolicyDocument: aws.String(overQuota)})
	wantLimitExceeded(t, "CreateRole over quota", err, DefaultTrustSizeQuota)
	var nse *iamtypes.NoSuchEntityException
	if _, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("big")}); !errors.As(err, &nse) {
		t.Errorf("refused CreateRole left a role: %v", err)
	}
	if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("full"), AssumeRolePolicyDocument: aws.String(atQuota)}); err != nil {
		t.Fatalf("CreateRole at quota: %v", err)
	}
	_, err = client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("full"), PolicyDocument: aws.String(overQuota)})
	wantLimitExceeded(t, "UpdateAssumeRolePolicy over quota", err, DefaultTrustSizeQuota)

	s.SetTrustSizeQuota(Account, 4096)
	if q := accountQuota(t, client); q != 4096 {
		t.Errorf("raised quota reported %d, want 4096", q)
	}
	if _, err := client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("full"), PolicyDocument: aws.String(overQuota)}); err != nil {
		t.Errorf("UpdateAssumeRolePolicy under the raised quota: %v", err)
	}
	if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("big"), AssumeRolePolicyDocument: aws.String(trustOfSize(t, 4096))}); err != nil {
		t.Errorf("CreateRole at the raised quota: %v", err)
	}
	_, err = client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bigger"), AssumeRolePolicyDocument: aws.String(trustOfSize(t, 4097))})
	wantLimitExceeded(t, "CreateRole over the raised quota", err, 4096)

	// The other account keeps IAM's default.
	creds, err := s.AccountCredentials(ctx, SecondAccount)
	if err != nil {
		t.Fatal(err)
	}
	second := iam.New(iam.Options{Region: Region, BaseEndpoint: aws.String(s.AWSEndpoint), Credentials: credentials.StaticCredentialsProvider{Value: creds}})
	if q := accountQuota(t, second); q != DefaultTrustSizeQuota {
		t.Errorf("%s reported %d, want the default %d", SecondAccount, q, DefaultTrustSizeQuota)
	}
	_, err = second.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("big"), AssumeRolePolicyDocument: aws.String(overQuota)})
	wantLimitExceeded(t, "CreateRole over quota in "+SecondAccount, err, DefaultTrustSizeQuota)

	s.SetTrustSizeQuota(Account, 0)
	if q := accountQuota(t, client); q != DefaultTrustSizeQuota {
		t.Errorf("quota reset reported %d, want %d", q, DefaultTrustSizeQuota)
	}
}
