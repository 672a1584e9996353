package suggest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
)

// Real-shaped denial lines, as the SDKs print them (account ids normalised).
const (
	goV2SQS       = `operation error SQS: SendMessage, https response error StatusCode: 403, RequestID: 1f3c, api error AccessDenied: User: arn:aws:sts::123456789012:assumed-role/orders-app/botocore-session-1700000000 is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:123456789012:orders because no identity-based policy allows the sqs:sendmessage action`
	botoS3Get     = `botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the GetObject operation: User: arn:aws:sts::123456789012:assumed-role/orders-app/botocore-session-1 is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::orders-bucket/in/2024/*" because no identity-based policy allows the s3:GetObject action`
	botoS3Put     = `botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:sts::123456789012:assumed-role/orders-app/botocore-session-1 is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::orders-bucket/in/2024/*" because no identity-based policy allows the s3:PutObject action`
	botoS3List    = `botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the ListObjectsV2 operation: User: arn:aws:sts::123456789012:assumed-role/orders-app/botocore-session-1 is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::orders-bucket" because no identity-based policy allows the s3:ListBucket action`
	javaDynamo    = `software.amazon.awssdk.services.dynamodb.model.DynamoDbException: User: arn:aws:sts::123456789012:assumed-role/orders-app/aws-sdk-java-1700 is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/Orders because no identity-based policy allows the dynamodb:PutItem action (Service: DynamoDb, Status Code: 400, Request ID: X)`
	botoSecret    = `An error occurred (AccessDenied) when calling the GetSecretValue operation: User: arn:aws:sts::123456789012:assumed-role/orders-app/botocore-session-1 is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf because no identity-based policy allows the secretsmanager:GetSecretValue action`
	botoPassRole  = `An error occurred (AccessDenied) when calling the RunInstances operation: User: arn:aws:sts::123456789012:assumed-role/orders-app/botocore-session-1 is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/service-role/app-exec because no identity-based policy allows the iam:PassRole action`
	motoSQS       = `An error occurred (AccessDenied) when calling the SendMessage operation: <?xml version="1.0" encoding="utf-8"?><ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/orders-app/kubectl-irsa-test-1 is not authorized to perform: sqs:SendMessage</Message><Type>Sender</Type></Error></Errors></ErrorResponse>`
	nodeRole      = `User: arn:aws:sts::123456789012:assumed-role/eksctl-prod-nodegroup-ng-1-NodeInstanceRole-1ABC/i-0123456789abcdef0 is not authorized to perform: eks:ListClusters on resource: arn:aws:eks:us-east-1:123456789012:cluster/*`
	ec2SCP        = `api error UnauthorizedOperation: You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/karpenter-controller/1700000000000000000 is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/* with an explicit deny in a service control policy. Encoded authorization failure message: AbC-dEf_123`
	ec2Encoded    = `api error UnauthorizedOperation: You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/karpenter-controller/1700000000000000000 is not authorized to perform: ec2:CreateFleet on resource: arn:aws:ec2:us-east-1:123456789012:fleet/* because no identity-based policy allows the ec2:CreateFleet action. Encoded authorization failure message: AbC-dEf_123`
	boundary      = `An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:sts::123456789012:assumed-role/orders-app/botocore-session-1 is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::orders-bucket/out/x" because no permissions boundary allows the s3:PutObject action`
	sessionPolicy = `An error occurred (AccessDenied) when calling the DeleteObject operation: User: arn:aws:sts::123456789012:assumed-role/orders-app/botocore-session-1 is not authorized to perform: s3:DeleteObject on resource: "arn:aws:s3:::orders-bucket/out/x" because no session policy allows the s3:DeleteObject action`
	identityDeny  = `An error occurred (AccessDenied) when calling the PassRole operation: User: arn:aws:sts::123456789012:assumed-role/orders-app/botocore-session-1 is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/service-role/app-exec with an explicit deny in an identity-based policy`
	otherRole     = `An error occurred (AccessDenied) when calling the GetObject operation: User: arn:aws:sts::123456789012:assumed-role/billing-app/botocore-session-1 is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::billing/x" because no identity-based policy allows the s3:GetObject action`
)

// suggestFrom classifies lines as doctor does and suggests the policy of role.
func suggestFrom(t *testing.T, role string, lines ...string) (*api.PolicySuggestion, error) {
	t.Helper()
	fs, err := (&logclass.Classifier{}).Collect(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return Policy(FromFindings(fs), role)
}

func policyJSON(t *testing.T, doc *api.PolicyDocument) string {
	t.Helper()
	if doc == nil {
		return ""
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fixes(s *api.PolicySuggestion) string {
	var out []string
	for _, d := range s.Denials {
		out = append(out, d.Action+"="+d.Fix)
	}
	return strings.Join(out, " ")
}

func TestPolicy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lines  []string
		policy string // compact JSON; "" for none
		fixes  string
		notes  []string // substrings, each in some note
	}{{
		name:   "one action, resource exact",
		lines:  []string{goV2SQS},
		policy: `{"Version":"2012-10-17","Statement":[{"Sid":"AllowSqs","Effect":"Allow","Action":["sqs:sendmessage"],"Resource":["arn:aws:sqs:us-east-1:123456789012:orders"]}]}`,
		fixes:  "sqs:sendmessage=identity-policy",
	}, {
		name:   "no resource named: *",
		lines:  []string{motoSQS},
		policy: `{"Version":"2012-10-17","Statement":[{"Sid":"AllowSqs","Effect":"Allow","Action":["sqs:SendMessage"],"Resource":["*"]}]}`,
		fixes:  "sqs:SendMessage=identity-policy",
	}, {
		name:  "several actions across services, wildcards and paths kept, same resources share a statement",
		lines: []string{javaDynamo, botoS3Put, botoSecret, botoS3Get, botoS3List, botoPassRole, goV2SQS},
		policy: `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"AllowDynamodb","Effect":"Allow","Action":["dynamodb:PutItem"],"Resource":["arn:aws:dynamodb:us-east-1:123456789012:table/Orders"]},` +
			`{"Sid":"AllowIam","Effect":"Allow","Action":["iam:PassRole"],"Resource":["arn:aws:iam::123456789012:role/service-role/app-exec"]},` +
			`{"Sid":"AllowS3Part1","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::orders-bucket/in/2024/*"]},` +
			`{"Sid":"AllowS3Part2","Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::orders-bucket"]},` +
			`{"Sid":"AllowSecretsmanager","Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"]},` +
			`{"Sid":"AllowSqs","Effect":"Allow","Action":["sqs:sendmessage"],"Resource":["arn:aws:sqs:us-east-1:123456789012:orders"]}]}`,
		fixes: "dynamodb:PutItem=identity-policy iam:PassRole=identity-policy s3:GetObject=identity-policy s3:ListBucket=identity-policy " +
			"s3:PutObject=identity-policy secretsmanager:GetSecretValue=identity-policy sqs:sendmessage=identity-policy",
	}, {
		name:   "an action named with and without a resource: * covers it",
		lines:  []string{goV2SQS, motoSQS},
		policy: `{"Version":"2012-10-17","Statement":[{"Sid":"AllowSqs","Effect":"Allow","Action":["sqs:SendMessage"],"Resource":["*"]}]}`,
		fixes:  "sqs:SendMessage=identity-policy sqs:sendmessage=identity-policy",
	}, {
		name:  "node role: no policy, the link",
		lines: []string{nodeRole, nodeRole},
		fixes: "eks:ListClusters=link",
		notes: []string{"node's instance role", "link the ServiceAccount to its own role"},
	}, {
		name:  "SCP explicit deny with an encoded message: no identity policy can fix it",
		lines: []string{ec2SCP},
		fixes: "ec2:RunInstances=other-policy",
		notes: []string{"no identity policy can fix", "sts:DecodeAuthorizationMessage"},
	}, {
		name:   "encoded message beside an identity-policy denial: allowed, the message noted",
		lines:  []string{ec2Encoded},
		policy: `{"Version":"2012-10-17","Statement":[{"Sid":"AllowEc2","Effect":"Allow","Action":["ec2:CreateFleet"],"Resource":["arn:aws:ec2:us-east-1:123456789012:fleet/*"]}]}`,
		fixes:  "ec2:CreateFleet=identity-policy",
		notes:  []string{"1 denied call(s) came with an encoded authorization message", "aws sts decode-authorization-message"},
	}, {
		name:   "boundary, session policy and identity-based deny beside a fixable call",
		lines:  []string{boundary, sessionPolicy, identityDeny, botoS3Get},
		policy: `{"Version":"2012-10-17","Statement":[{"Sid":"AllowS3","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::orders-bucket/in/2024/*"]}]}`,
		fixes:  "s3:GetObject=identity-policy iam:PassRole=other-policy s3:DeleteObject=other-policy s3:PutObject=other-policy",
		notes:  []string{"3 denied call(s) were decided by a policy other than the role's identity policy"},
	}, {
		name:   "duplicates and case: one call",
		lines:  []string{botoS3Get, botoS3Get, strings.Replace(botoS3Get, "s3:GetObject on", "s3:getobject on", 1), botoS3Get},
		policy: `{"Version":"2012-10-17","Statement":[{"Sid":"AllowS3","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::orders-bucket/in/2024/*"]}]}`,
		fixes:  "s3:GetObject=identity-policy",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := suggestFrom(t, "", tc.lines...)
			if err != nil {
				t.Fatal(err)
			}
			if got := policyJSON(t, s.Policy); got != tc.policy {
				t.Errorf("policy\n got %s\nwant %s", got, tc.policy)
			}
			if got := fixes(s); got != tc.fixes {
				t.Errorf("fixes\n got %s\nwant %s", got, tc.fixes)
			}
			for _, n := range tc.notes {
				if !strings.Contains(strings.Join(s.Notes, "\n"), n) {
					t.Errorf("no note with %q in %q", n, s.Notes)
				}
			}
			for _, d := range s.Denials {
				if d.Fix != api.FixIdentityPolicy && d.Reason == "" || d.Fix == api.FixIdentityPolicy && d.Sid == "" {
					t.Errorf("denial %+v: a fix without its reason or statement", d)
				}
			}
		})
	}
}

// TestPolicyDeterministic: the order of the lines does not change the policy.
func TestPolicyDeterministic(t *testing.T) {
	lines := []string{javaDynamo, botoS3Put, botoSecret, botoS3Get, botoS3List, botoPassRole, goV2SQS, motoSQS}
	first, _ := suggestFrom(t, "", lines...)
	for i := range lines {
		rot := append(append([]string{}, lines[i:]...), lines[:i]...)
		s, _ := suggestFrom(t, "", rot...)
		if a, b := policyJSON(t, first.Policy), policyJSON(t, s.Policy); a != b {
			t.Fatalf("rotation %d changed the policy:\n%s\n%s", i, a, b)
		}
	}
}

func TestPolicySeveralRoles(t *testing.T) {
	_, err := suggestFrom(t, "", botoS3Get, otherRole)
	var several *SeveralRolesError
	if !errors.As(err, &several) || strings.Join(several.Roles, ",") != "billing-app,orders-app" {
		t.Fatalf("err = %v", err)
	}
	s, err := suggestFrom(t, "Billing-App", botoS3Get, otherRole)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Version":"2012-10-17","Statement":[{"Sid":"AllowS3","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::billing/x"]}]}`; policyJSON(t, s.Policy) != want {
		t.Errorf("policy of the chosen role: %s", policyJSON(t, s.Policy))
	}
	s, _ = suggestFrom(t, "app-role", nodeRole)
	if s.Policy != nil || len(s.Notes) != 2 || !strings.Contains(s.Notes[1], "node role eksctl-prod-nodegroup-ng-1-NodeInstanceRole-1ABC denied eks:ListClusters") {
		t.Errorf("the target's role with only node-role denials: %+v", s)
	}
	s, _ = suggestFrom(t, "absent", botoS3Get)
	if s.Policy != nil || len(s.Notes) != 1 || !strings.Contains(s.Notes[0], "no denied call of role absent") {
		t.Errorf("absent role: %+v", s)
	}
}

// TestPolicyHostile: escapes, quotes and cut resources never reach the policy as anything but a clean ARN, and a
// huge log gives bounded output.
func TestPolicyHostile(t *testing.T) {
	inject := strings.Replace(botoS3Get, "orders-bucket/in/2024/*", `orders-bucket/in/\u001b[31mred\"}],\"Effect\":\"Allow\",\"Resource\":\"*`, 1)
	cut := strings.Replace(botoS3Put, `"arn:aws:s3:::orders-bucket/in/2024/*" because no identity-based policy allows the s3:PutObject action`, `"arn:aws:s3:::orders-bu…`, 1)
	ansi := "\x1b[31m" + goV2SQS + "\x1b[0m"
	jsonLog := `{"level":"error","msg":` + strconvQuote(goV2SQS) + `}`
	s, err := suggestFrom(t, "", inject, cut, ansi, jsonLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range s.Policy.Statement {
		for _, r := range st.Resource {
			if r == "*" || !validResource(r) {
				t.Errorf("statement %s allows %q", st.Sid, r)
			}
		}
	}
	if got := fixes(s); got != "s3:GetObject=identity-policy sqs:sendmessage=identity-policy s3:PutObject=unusable" {
		t.Errorf("fixes: %s", got)
	}

	// A 2 MiB resource: logclass keeps at most 1 KiB of it, and the suggestion no more.
	huge := strings.Replace(botoS3Get, "orders-bucket/in/2024/*", strings.Repeat("a", 2<<20), 1)
	s, err = suggestFrom(t, "", huge)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(s); len(b) > 8<<10 {
		t.Errorf("a 2 MiB resource gave %d bytes", len(b))
	}

	// More distinct calls than MaxCalls (a Collector bounds them already; Policy on its own too).
	var ds []Denial
	for i := 0; i < 1000; i++ {
		ds = append(ds, Denial{Role: "orders-app", Action: fmt.Sprintf("s3:Get%04d", i), Resource: fmt.Sprintf("arn:aws:s3:::b/%04d/%s", i, strings.Repeat("k", 100))})
	}
	s, err = Policy(ds, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Denials) != MaxCalls || !strings.Contains(strings.Join(s.Notes, "\n"), "800 more denied call(s) beyond the first 200 were left out") {
		t.Errorf("%d denials, notes %q", len(s.Denials), s.Notes)
	}
	if !strings.Contains(strings.Join(s.Notes, "\n"), "more than the 10240 IAM allows") {
		t.Errorf("an oversized policy (%d) is not noted: %q", Size(s.Policy), s.Notes)
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestDocumentIsIAMJSON(t *testing.T) {
	s, _ := suggestFrom(t, "", botoS3Get, goV2SQS)
	b, err := Document(s.Policy)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Version   string
		Statement []struct {
			Sid, Effect      string
			Action, Resource []string
		}
	}
	if err := json.Unmarshal(b, &back); err != nil || back.Version != "2012-10-17" || len(back.Statement) != 2 || back.Statement[0].Effect != "Allow" {
		t.Errorf("document %s: %v", b, err)
	}
}

// TestPolicyCutResource: a resource the log cut with "..." is never allowed
// as the prefix it shows; the call is reported as unusable (write the ARN by
// hand), wherever the cut line ends.
func TestPolicyCutResource(t *testing.T) {
	full := `"arn:aws:s3:::orders-bucket/in/2024/*" because no identity-based policy allows the s3:PutObject action`
	for name, cut := range map[string]string{
		"end of line":    `arn:aws:s3:::orders-bu...`,
		"quoted":         `"arn:aws:s3:::orders-bucket/in/20..."`,
		"before because": `arn:aws:s3:::orders-bucket/in/20... because no identity-based policy allows the s3:PutObject action`,
		"before a dot":   `arn:aws:s3:::orders-bucket/in/20.... Retrying`,
	} {
		t.Run(name, func(t *testing.T) {
			line := strings.Replace(botoS3Put, full, cut, 1)
			if line == botoS3Put {
				t.Fatal("the sample line changed: update the test")
			}
			s, err := suggestFrom(t, "", line)
			if err != nil {
				t.Fatal(err)
			}
			if got := fixes(s); got != "s3:PutObject=unusable" {
				t.Errorf("fixes: %s, policy %s", got, policyJSON(t, s.Policy))
			}
		})
	}
}
