package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// Tests of what real AWS accounts do that a single emulated account hides: roles in another account, role
// paths, short pages, failed reads, IAM's refusal of empty trusts, and conditions only STS can decide.

// secondIAM is an IAM client acting in the second account, straight on moto (its calls are not counted).
func secondIAM(t *testing.T) *iam.Client {
	t.Helper()
	creds, err := sb.AccountCredentials(context.Background(), sandbox.SecondAccount)
	if err != nil {
		t.Fatal(err)
	}
	return iam.New(iam.Options{Region: sandbox.Region, BaseEndpoint: aws.String(sb.MotoEndpoint), Credentials: credentials.StaticCredentialsProvider{Value: creds}})
}

// profileEnv writes an AWS shared config and credentials file with two profiles acting in the second account
// (`second`: its static keys; `second-chain`: an assume-role profile whose source is the sandbox's own keys,
// resolved by the SDK's profile chain) and returns the environment pointing at them.
func profileEnv(t *testing.T) []string {
	t.Helper()
	creds, err := sb.AccountCredentials(context.Background(), sandbox.SecondAccount)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	config := fmt.Sprintf(`[profile second]
region = %[1]s

[profile home]
region = %[1]s

[profile second-chain]
region = %[1]s
role_arn = arn:aws:iam::%[2]s:role/sandbox-account-access
source_profile = home
`, sandbox.Region, sandbox.SecondAccount)
	credentialsFile := fmt.Sprintf(`[second]
aws_access_key_id = %s
aws_secret_access_key = %s
aws_session_token = %s

[home]
aws_access_key_id = %s
aws_secret_access_key = %s
`, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, sandbox.AccessKeyID, sandbox.SecretAccessKey)
	for name, content := range map[string]string{"config": config, "credentials": credentialsFile} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The SDK builds the profile chain's STS client before it reads AWS_ENDPOINT_URL, but it honours the
	// service-specific variable: without it, the chain's sts:AssumeRole would go to AWS itself.
	return []string{"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_ENDPOINT_URL_STS=" + counter.URL}
}

// irsaEnv runs `kubectl irsa ARGS` with environment overrides.
func irsaEnv(t *testing.T, overrides []string, args ...string) result {
	t.Helper()
	return kubectl(t, env(overrides...), append([]string{"irsa"}, args...)...)
}

func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%v\n%s", err, r)
	}
	return v
}

func anyContains(list []string, parts ...string) bool {
	return slices.ContainsFunc(list, func(s string) bool {
		for _, p := range parts {
			if !strings.Contains(s, p) {
				return false
			}
		}
		return true
	})
}

// ensureProvider creates the caller account's OIDC provider for the sandbox's issuer when missing.
func ensureProvider(t *testing.T) {
	t.Helper()
	_, err := iamClient.CreateOpenIDConnectProvider(context.Background(), &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(sb.Issuer), ClientIDList: []string{iamref.DefaultAudience}})
	if err != nil && !strings.Contains(err.Error(), "EntityAlreadyExists") {
		t.Fatal(err)
	}
}

// ownTrust is kubectl irsa's own statement for the subjects, with extra raw condition operators merged in.
func ownTrust(t *testing.T, p trust.Provider, extra string, subjects ...string) string {
	t.Helper()
	d := trust.New()
	d.AddSubjects(p, iamref.DefaultAudience, subjects...)
	if extra == "" {
		return d.String()
	}
	s := d.String()
	i := strings.Index(s, `"Condition":{`)
	if i < 0 {
		t.Fatalf("no condition in %s", s)
	}
	i += len(`"Condition":{`)
	return s[:i] + extra + "," + s[i:]
}

// TestRealAWSCrossAccount: a role of account 222222222222 with a same-named role in the caller's account.
// link refuses without credentials for that account and, with --role-profile, creates that account's OIDC
// provider and trust and never touches the caller's role; doctor, list and test read it with the profile and
// otherwise say what they could not check (exit 2), never "does not exist"; test always asks STS.
func TestRealAWSCrossAccount(t *testing.T) {
	ctx := context.Background()
	ns := "xacct"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)
	createRole(t, "xshared", ec2TrustDoc)
	before := roleTrust(t, "xshared").String()
	iam2 := secondIAM(t)
	if _, err := iam2.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("xshared"), AssumeRolePolicyDocument: aws.String(ec2TrustDoc)}); err != nil {
		t.Fatal(err)
	}
	provider2 := trust.NewProvider("aws", sandbox.SecondAccount, sb.Issuer)
	t.Cleanup(func() {
		_, _ = iam2.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("xshared")})
		_, _ = iam2.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provider2.ARN)})
	})
	arn2 := iamref.RoleARN("aws", sandbox.SecondAccount, "/", "xshared")
	profiles := profileEnv(t)

	counter.Reset()
	r := irsaCmd(t, "link", "app", "-n", ns, "--role-arn", arn2)
	if r.code != 1 || !strings.Contains(r.stderr, "account "+sandbox.SecondAccount) || !strings.Contains(r.stderr, "--role-profile") || len(counter.Writes()) != 0 {
		t.Fatalf("link without credentials for the role's account: writes %v\n%s", counter.Writes(), r)
	}

	counter.Reset()
	mustSucceed(t, irsaEnv(t, profiles, "link", "app", "-n", ns, "--role-arn", arn2, "--role-profile", "second"))
	t.Logf("cross-account link: AWS calls %v", counter.Calls())
	if got := roleAnnotation(t, ns, "app"); got != arn2 {
		t.Errorf("annotation %q, want %q", got, arn2)
	}
	if _, err := iam2.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provider2.ARN)}); err != nil {
		t.Errorf("no OIDC provider in account %s: %v", sandbox.SecondAccount, err)
	}
	out, err := iam2.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("xshared")})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := trust.Parse(aws.ToString(out.Role.AssumeRolePolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	ev := doc.Evaluate(trust.Claims{ProviderARN: provider2.ARN, HostPath: provider2.HostPath, Subject: trust.Subject(ns, "app"), Audience: iamref.DefaultAudience})
	if ev.Verdict != trust.Admits {
		t.Errorf("the second account's role does not trust the ServiceAccount through its own provider: %s", doc)
	}
	if after := roleTrust(t, "xshared").String(); after != before {
		t.Errorf("the caller account's role of the same name was changed: %s", after)
	}

	// doctor: without credentials for the account, could not check (exit 2); with them (an assume-role profile
	// chain), a clean diagnosis.
	rep, r := doctorJSON(t, "app", "-n", ns)
	if r.code != 2 || !anyContains(rep.CouldNotCheck, "could not check role xshared in account "+sandbox.SecondAccount, "--role-profile") ||
		hasFinding(rep, doctor.RoleMissing, "") || hasFinding(rep, doctor.TrustMismatch, "") {
		t.Errorf("doctor without --role-profile: %s", r)
	}
	r = irsaEnv(t, profiles, "doctor", "app", "-n", ns, "-o", "json", "--role-profile", "second-chain")
	rep = decode[inspect.DoctorReport](t, r)
	if r.code == 2 || len(rep.CouldNotCheck) != 0 || hasFinding(rep, doctor.RoleMissing, "") || hasFinding(rep, doctor.TrustMismatch, "") || hasFinding(rep, doctor.NoOIDCProvider, "") {
		t.Errorf("doctor --role-profile second-chain: %s", r)
	}

	// list: the role's state unknown without credentials (exit 2), known with them.
	r = irsaCmd(t, "list", "-n", ns, "-o", "json")
	list := decode[inspect.ListResult](t, r)
	if r.code != 2 || len(list.Items) != 1 || list.Items[0].RoleExists != "unknown" || !anyContains(list.CouldNotCheck, "account "+sandbox.SecondAccount) {
		t.Errorf("list without --role-profile: %s", r)
	}
	r = irsaEnv(t, profiles, "list", "-n", ns, "-o", "json", "--role-profile", "second")
	list = decode[inspect.ListResult](t, r)
	if r.code != 0 || len(list.Items) != 1 || list.Items[0].RoleExists != "yes" || list.Items[0].TrustAdmits != "yes" {
		t.Errorf("list --role-profile: %s", r)
	}

	// test: STS is asked either way (it needs no credentials); the trust is evaluated only when it was read.
	counter.Reset()
	r = irsaCmd(t, "test", "app", "-n", ns, "-o", "json")
	res := decode[inspect.TestResult](t, r)
	if r.code != 2 || res.STS != "ok" || res.Trust != nil || !anyContains(res.CouldNotCheck, "account "+sandbox.SecondAccount) || countCalls("sts:AssumeRoleWithWebIdentity") == 0 {
		t.Errorf("test without --role-profile: calls %v\n%s", counter.Calls(), r)
	}
	r = irsaEnv(t, profiles, "test", "app", "-n", ns, "-o", "json", "--role-profile", "second")
	res = decode[inspect.TestResult](t, r)
	if r.code != 0 || res.Verdict != inspect.VerdictPass || res.Trust == nil || res.Trust.Verdict != trust.Admits || !anyContains(res.Notes, "is not AWS") {
		t.Errorf("test --role-profile: %s", r)
	}
}

const ec2TrustDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// TestRealAWSRolePath: the annotation must name the role's whole ARN; without its path it names no role.
func TestRealAWSRolePath(t *testing.T) {
	ctx := context.Background()
	ns := "pathns"
	ensureProvider(t)
	createNamespace(t, ns)
	out, err := iamClient.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("pathapp"), Path: aws.String("/team/"),
		AssumeRolePolicyDocument: aws.String(ownTrust(t, provider(), "", trust.Subject(ns, "app")))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = iamClient.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("pathapp")}) })
	full := aws.ToString(out.Role.Arn)
	createServiceAccount(t, ns, "app", map[string]string{iamref.RoleARNAnnotation: iamref.RoleARN("aws", account, "/", "pathapp")})

	rep, r := doctorJSON(t, "app", "-n", ns)
	i := slices.IndexFunc(rep.Findings, func(f doctor.Finding) bool { return f.ID == doctor.RoleMissing })
	if r.code != 1 || i < 0 || !strings.Contains(rep.Findings[i].Summary, full) || !strings.Contains(rep.Findings[i].Fix, "--role-arn "+full) {
		t.Errorf("annotation without the path: %s", r)
	}
	sa, err := kube.CoreV1().ServiceAccounts(ns).Get(ctx, "app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sa.Annotations[iamref.RoleARNAnnotation] = full
	if _, err := kube.CoreV1().ServiceAccounts(ns).Update(ctx, sa, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, r = doctorJSON(t, "app", "-n", ns)
	if hasFinding(rep, doctor.RoleMissing, "") || hasFinding(rep, doctor.TrustMismatch, "") || r.code == 2 {
		t.Errorf("annotation with the path: %s", r)
	}
}
