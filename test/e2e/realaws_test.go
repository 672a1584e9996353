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

// deleteServiceAccountAtCleanup deletes the ServiceAccount when the test ends, so later fleet-wide runs (list -A)
// do not meet its annotation of a role the test deleted.
func deleteServiceAccountAtCleanup(t *testing.T, ns, name string) {
	t.Helper()
	t.Cleanup(func() {
		_ = kube.CoreV1().ServiceAccounts(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
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
	deleteServiceAccountAtCleanup(t, ns, "app")
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
	// A pass STS proved exits 0; the unread role is a note, not an incomplete answer.
	if r.code != 0 || res.STS != "ok" || res.Verdict != inspect.VerdictPass || res.Trust != nil || !anyContains(res.Notes, "account "+sandbox.SecondAccount) || countCalls("sts:AssumeRoleWithWebIdentity") == 0 {
		t.Errorf("test without --role-profile: calls %v\n%s", counter.Calls(), r)
	}
	r = irsaEnv(t, profiles, "test", "app", "-n", ns, "-o", "json", "--role-profile", "second")
	res = decode[inspect.TestResult](t, r)
	if r.code != 0 || res.Verdict != inspect.VerdictPass || res.Trust == nil || res.Trust.Verdict != trust.Admits || !anyContains(res.Notes, "is not AWS") {
		t.Errorf("test --role-profile: %s", r)
	}

	// unlink: the same account rule; our statement goes, the role's other statement stays.
	counter.Reset()
	if r := irsaCmd(t, "unlink", "app", "-n", ns); r.code != 1 || !strings.Contains(r.stderr, "--role-profile") || len(counter.Writes()) != 0 {
		t.Errorf("unlink without --role-profile: writes %v\n%s", counter.Writes(), r)
	}
	mustSucceed(t, irsaEnv(t, profiles, "unlink", "app", "-n", ns, "--role-profile", "second"))
	out, err = iam2.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("xshared")})
	if err != nil {
		t.Fatal(err)
	}
	if doc, err = trust.Parse(aws.ToString(out.Role.AssumeRolePolicyDocument)); err != nil || len(doc.Statements) != 1 || roleAnnotation(t, ns, "app") != "" {
		t.Errorf("after unlink: annotation %q, trust in %s: %s (%v)", roleAnnotation(t, ns, "app"), sandbox.SecondAccount, doc, err)
	}
	if after := roleTrust(t, "xshared").String(); after != before {
		t.Errorf("unlink changed the caller account's role of the same name: %s", after)
	}
}

// TestRealAWSCrossAccountRoleName: --role-name with --role-profile creates the role in the profile's account (with
// that account's OIDC provider) and annotates with that account's ARN; the caller's account gets nothing.
func TestRealAWSCrossAccountRoleName(t *testing.T) {
	ctx := context.Background()
	ns := "xacct-name"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)
	deleteServiceAccountAtCleanup(t, ns, "app")
	iam2 := secondIAM(t)
	t.Cleanup(func() {
		_, _ = iam2.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("xnamed"), PolicyName: aws.String("kubectl-irsa")})
		_, _ = iam2.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("xnamed")})
	})
	profiles := profileEnv(t)
	counter.Reset()
	mustSucceed(t, irsaEnv(t, profiles, "link", "app", "-n", ns, "--role-name", "xnamed", "--allow", "s3:ListBucket", "--role-profile", "second"))
	want := iamref.RoleARN("aws", sandbox.SecondAccount, "/", "xnamed")
	if got := roleAnnotation(t, ns, "app"); got != want {
		t.Errorf("annotation %q, want %q", got, want)
	}
	if _, err := iam2.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("xnamed")}); err != nil {
		t.Errorf("role not created in %s: %v", sandbox.SecondAccount, err)
	}
	if _, err := iamClient.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("xnamed")}); err == nil {
		t.Errorf("role created in the caller's account too")
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
	deleteServiceAccountAtCleanup(t, ns, "app")

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

// deniedLog is an SDK's AccessDenied for the pod's own IRSA role (not the node's): doctor then checks the role's
// identity policies for the action.
func deniedLog(t *testing.T, role, action string) string {
	t.Helper()
	return writeLog(t, fmt.Sprintf("An error occurred (AccessDenied) when calling the %s operation: User: arn:aws:sts::%s:assumed-role/%s/botocore-session-1700000000 is not authorized to perform: %s on resource: *\n",
		action[strings.Index(action, ":")+1:], account, role, action))
}

// TestRealAWSOneItemPages: every list call walks all its pages. link, unlink, doctor, list and audit give the
// same results when IAM and EKS answer one item per page as with full pages.
func TestRealAWSOneItemPages(t *testing.T) {
	ctx := context.Background()
	ns := "pages"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "a1", nil)
	createServiceAccount(t, ns, "a2", nil)
	mustSucceed(t, irsaCmd(t, "link", "a1", "-n", ns, "--role-name", "pages-shared", "--allow", "s3:GetObject"))
	mustSucceed(t, irsaCmd(t, "link", "a2", "-n", ns, "--role-name", "pages-shared"))
	t.Cleanup(func() {
		_ = irsaCmd(t, "unlink", "a2", "-n", ns)
		_ = irsaCmd(t, "unlink", "a1", "-n", ns, "--delete-role")
	})
	// More inline and managed policies; the action of the log is allowed only by the last inline one.
	for i, action := range []string{"s3:ListBucket", "sqs:ReceiveMessage", "sqs:SendMessage"} {
		doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":%q,"Resource":"*"}]}`, action)
		if _, err := iamClient.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("pages-shared"), PolicyName: aws.String(fmt.Sprintf("zz-extra-%d", i)), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
		p, err := iamClient.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("pages-managed-e2e-%d", i)), PolicyDocument: aws.String(doc)})
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			if _, err := iamClient.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("pages-shared"), PolicyArn: p.Policy.Arn}); err != nil {
				t.Fatal(err)
			}
		}
	}
	logs := deniedLog(t, "pages-shared", "sqs:SendMessage")
	runs := [][]string{
		{"link", "a1", "-n", ns, "--role-name", "pages-shared", "-o", "json"},
		{"unlink", "a2", "-n", ns, "--dry-run", "-o", "json"},
		{"doctor", "a1", "-n", ns, "--logs-file", logs, "-o", "json"},
		{"doctor", "-n", ns, "-o", "json"},
		{"list", "-n", ns, "-o", "json"},
		{"audit", "-n", ns, "-o", "json"},
	}
	t.Cleanup(func() { counter.SetOneItemPages(false) })
	for _, args := range runs {
		counter.SetOneItemPages(false)
		full := irsaCmd(t, args...)
		counter.SetOneItemPages(true)
		counter.Reset()
		short := irsaCmd(t, args...)
		if full.code != short.code || full.stdout != short.stdout {
			t.Errorf("%v differs with one-item pages:\nfull pages: %s\none-item pages: %s", args, full, short)
		}
		if slices.Contains(args, "--logs-file") {
			// Four inline policies (link's and three more): four one-item pages.
			if n := countCalls("iam:ListRolePolicies"); n < 4 || hasFinding(decode[inspect.DoctorReport](t, short), doctor.PermissionMissing, "role/pages-shared") {
				t.Errorf("doctor with one-item pages: %d ListRolePolicies calls for 4 inline policies\n%s", n, short)
			}
		}
		t.Logf("%v: exit %d, %d AWS calls with one-item pages", args, short.code, len(counter.Calls()))
	}
	counter.SetOneItemPages(false)
}

// TestRealAWSPolicyReadDenied: an AccessDenied on GetRolePolicy is a check that could not run (exit 2), never a
// confident PermissionMissing.
func TestRealAWSPolicyReadDenied(t *testing.T) {
	ns := "denied"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)
	mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--role-name", "denied-role", "--allow", "s3:GetObject"))
	t.Cleanup(func() { _ = irsaCmd(t, "unlink", "app", "-n", ns, "--delete-role") })
	remove := counter.InjectFault(sandbox.Fault{Operation: "iam:GetRolePolicy", RoleName: "denied-role"})
	defer remove()

	r := irsaCmd(t, "audit", "-n", ns, "-o", "json")
	rep := decode[inspect.AuditReport](t, r)
	// audit also judges every role of the account that trusts the cluster (other tests' roles): exit 1 when
	// one of them has a high finding, else 2 for the check that could not run.
	want := 2
	if slices.ContainsFunc(rep.Findings, func(f doctor.Finding) bool { return f.Severity == doctor.High }) {
		want = 1
	}
	if r.code != want || !anyContains(rep.CouldNotCheck, "could not check the permissions of role denied-role", "AccessDenied") ||
		slices.ContainsFunc(rep.Findings, func(f doctor.Finding) bool { return strings.Contains(f.Target, "denied-role") }) {
		t.Errorf("audit with GetRolePolicy denied: %s", r)
	}
	drep, r := doctorJSON(t, "app", "-n", ns, "--logs-file", deniedLog(t, "denied-role", "s3:GetObject"))
	if !anyContains(drep.CouldNotCheck, "could not check the permissions of role denied-role") || hasFinding(drep, doctor.PermissionMissing, "role/denied-role") {
		t.Errorf("doctor with GetRolePolicy denied: %s", r)
	}
	// Without the log line's own error (it is evidence from the pod, kept), the exit status is 2.
	remove()
	if _, r := doctorJSON(t, "app", "-n", ns, "--logs-file", deniedLog(t, "denied-role", "s3:GetObject")); r.code != 0 && hasFinding(decode[inspect.DoctorReport](t, r), doctor.PermissionMissing, "role/denied-role") {
		t.Errorf("doctor with the policies readable found the allowed action missing: %s", r)
	}
}

// TestRealAWSUnlinkLastSubject: unlinking a role's only subject would write a trust IAM rejects; it is refused
// before any write with the --delete-role hint, and --delete-role removes link and role.
func TestRealAWSUnlinkLastSubject(t *testing.T) {
	ns := "lastsub"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)
	mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns, "--role-name", "lastsub-role"))
	before := roleTrust(t, "lastsub-role").String()
	counter.Reset()
	r := irsaCmd(t, "unlink", "app", "-n", ns)
	if r.code != 1 || !strings.Contains(r.stderr, "--delete-role") || len(counter.Writes()) != 0 || roleTrust(t, "lastsub-role").String() != before || roleAnnotation(t, ns, "app") == "" {
		t.Errorf("unlink of the last subject: writes %v\n%s", counter.Writes(), r)
	}
	mustSucceed(t, irsaCmd(t, "unlink", "app", "-n", ns, "--delete-role"))
	if roleTrust(t, "lastsub-role") != nil || roleAnnotation(t, ns, "app") != "" {
		t.Errorf("unlink --delete-role left the role or the annotation")
	}
}

// TestRealAWSUnmodelledCondition: a trust whose answer depends on aws:SourceIp (which only STS knows) passes
// test when STS accepts, with notes naming the key and the emulator; doctor notes it instead of a mismatch. A
// certain refusal still fails.
func TestRealAWSUnmodelledCondition(t *testing.T) {
	ctx := context.Background()
	ns := "srcip"
	ensureProvider(t)
	createNamespace(t, ns)
	arn := createRole(t, "srcip-role", ownTrust(t, provider(), `"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}`, trust.Subject(ns, "app")))
	createServiceAccount(t, ns, "app", map[string]string{iamref.RoleARNAnnotation: arn})
	deleteServiceAccountAtCleanup(t, ns, "app")

	r := irsaCmd(t, "test", "app", "-n", ns, "-o", "json")
	res := decode[inspect.TestResult](t, r)
	if r.code != 0 || res.Verdict != inspect.VerdictPass || res.Trust == nil || res.Trust.Verdict != trust.CannotTell ||
		!anyContains(res.Notes, "aws:SourceIp") || !anyContains(res.Notes, "STS endpoint "+counter.URL+" is not AWS: its answer proves nothing about the trust") {
		t.Errorf("test with an unmodelled condition: %s", r)
	}
	human := irsaCmd(t, "test", "app", "-n", ns)
	if human.code != 0 || !strings.Contains(human.stdout, "aws:SourceIp") || !strings.Contains(human.stdout, "PASS") {
		t.Errorf("test, human output: %s", human)
	}
	rep, r := doctorJSON(t, "app", "-n", ns)
	if !hasFinding(rep, doctor.TrustUndecided, "role/srcip-role") || hasFinding(rep, doctor.TrustMismatch, "") || r.code == 2 {
		t.Errorf("doctor with an unmodelled condition: %s", r)
	}

	// The same unknown key beside a certain refusal (another ServiceAccount's sub): FAIL, even though the
	// emulator's STS accepts.
	if _, err := iamClient.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("srcip-role"),
		PolicyDocument: aws.String(ownTrust(t, provider(), `"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}`, trust.Subject(ns, "other")))}); err != nil {
		t.Fatal(err)
	}
	r = irsaCmd(t, "test", "app", "-n", ns, "-o", "json")
	if res := decode[inspect.TestResult](t, r); r.code != 1 || res.Verdict != inspect.VerdictFail || res.Trust == nil || res.Trust.Verdict != trust.Refuses {
		t.Errorf("test with a certain refusal: %s", r)
	}
}

// TestRealAWSAuditNegatedSubject: StringNotEquals on sub admits every other ServiceAccount of the cluster.
func TestRealAWSAuditNegatedSubject(t *testing.T) {
	ns := "negsub"
	ensureProvider(t)
	createNamespace(t, ns)
	p := provider()
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"StringNotEquals":{"%s:sub":"system:serviceaccount:%s:blocked"},"StringEquals":{"%s:aud":"sts.amazonaws.com"}}}]}`, p.ARN, p.HostPath, ns, p.HostPath)
	arn := createRole(t, "negsub-role", doc)
	createServiceAccount(t, ns, "app", map[string]string{iamref.RoleARNAnnotation: arn})
	deleteServiceAccountAtCleanup(t, ns, "app")
	r := irsaCmd(t, "audit", "-n", ns, "-o", "json")
	rep := decode[inspect.AuditReport](t, r)
	i := slices.IndexFunc(rep.Findings, func(f doctor.Finding) bool {
		return f.ID == doctor.NegatedSubject && strings.Contains(f.Target, "negsub-role")
	})
	if r.code != 1 || i < 0 || !strings.Contains(rep.Findings[i].Summary, "system:serviceaccount:"+ns+":blocked") {
		t.Errorf("audit of a negated sub: %s", r)
	}
}
