package logclass

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "AccessDenied: User: x", "AccessDenied: User: x"},
		{"json escapes", `a\nb\tc\"d\\e\/f\u0041`, "a\nb\tc\"d\\e/fA"},
		{"json in json", `{\"error\":\"x\\ncaused by: y\"}`, "{\"error\":\"x\ncaused by: y\"}"},
		{"unknown escapes kept", `Aws\Exception\CredentialsException C:\path`, `Aws\Exception\CredentialsException C:\path`},
		{"php namespace escaped in json", `Aws\\Exception\\CredentialsException`, `Aws\Exception\CredentialsException`},
		{"ansi", "\x1b[31mERROR\x1b[0m \x1b[1;33mAccessDenied\x1b[m: x", "ERROR AccessDenied: x"},
		{"ansi escaped in json", `\u001b[31mERROR\u001b[0m done`, "ERROR done"},
		{"ansi python repr", `\x1b[31mERROR\x1b[0m done`, "ERROR done"},
		{"osc hyperlink", "\x1b]8;;http://x\x07link\x1b]8;;\x07 text", "link text"},
		{"crlf", "AccessDenied: x\r", "AccessDenied: x "},
		{"escaped crlf", `line\r\nnext`, "line \nnext"},
		{"klog", "E0813 13:51:33.484133       1 aws_manager.go:148] Failed to regenerate ASG cache", "Failed to regenerate ASG cache"},
		{"klog info", "I0101 00:00:00.000000 7 main.go:1] x", "x"},
		{"not klog", "Error 1234 happened", "Error 1234 happened"},
		{"trailing backslash", `abc\`, `abc\`},
		{"short unicode escape", `\u00`, `\u00`},
		{"non-ascii unicode escape", `caf\u00e9`, "café"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := normalize(tc.in); got != tc.want {
				t.Errorf("normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	s := `{"level":"error","msg":"Reconciler error","error":"AccessDenied: User: arn:aws:sts::1:assumed-role/r/i-0123456789abcdef0 is not authorized to perform: s3:GetObject` + "\n\t" + `status code: 403"}`
	at := strings.Index(s, "User:")
	got := excerpt(s, at)
	if !strings.HasPrefix(got, "AccessDenied: User: arn:aws:sts::1") {
		t.Errorf("excerpt should start at the error code, got %q", got)
	}
	if !strings.HasSuffix(got, "status code: 403") {
		t.Errorf("excerpt should end with the message, without JSON closers, got %q", got)
	}
	long := "AccessDenied: " + strings.Repeat("é", 400)
	if got := excerpt(long, 0); len(got) > 300 || !strings.HasPrefix(got, "AccessDenied") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("long excerpt: len %d, %q", len(got), got[:min(len(got), 40)])
	}
	if got := excerpt("x: \xff\xfe bad bytes", 0); !strings.Contains(got, "\uFFFD") {
		t.Errorf("invalid UTF-8 not replaced: %q", got)
	}
	if got := excerpt(strings.Repeat("a\xff", 400), 0); len(got) > 300 || !utf8.ValidString(got) {
		t.Errorf("invalid UTF-8: len %d valid %v", len(got), utf8.ValidString(got))
	}
	if got := excerpt("", 0); got != "" {
		t.Errorf("empty: %q", got)
	}
}

// TestNormalizationInClassification runs whole lines through ClassifyLine:
// each wrapping (klog, JSON, docker JSON, ANSI, CRLF) must give the same
// finding as the bare message.
func TestNormalizationInClassification(t *testing.T) {
	const bare = `AccessDenied: User: arn:aws:sts::123456789012:assumed-role/eks-nodes/i-0123456789abcdef0 is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::data"`
	const trust = `WebIdentityErr: failed to retrieve credentials\ncaused by: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity\n\tstatus code: 403, request id: 5c3f`
	tests := []struct {
		name, line string
		want       ID
		excerpt    string // prefix the excerpt must start with
	}{
		{"bare", bare, NodeRoleFallback, "AccessDenied: User:"},
		{"klog", "E0813 13:51:33.484133       1 controller.go:148] reconcile failed: " + bare, NodeRoleFallback, "reconcile failed: AccessDenied"},
		{"logfmt", `time="2024-05-01T10:00:00Z" level=error msg="` + strings.ReplaceAll(bare, `"`, `\"`) + `"`, NodeRoleFallback, "AccessDenied: User:"},
		{"json", `{"level":"error","error":"` + strings.ReplaceAll(bare, `"`, `\"`) + `"}`, NodeRoleFallback, "AccessDenied: User:"},
		{"docker json-file", `{"log":"{\"level\":\"error\",\"error\":\"` + strings.ReplaceAll(bare, `"`, `\\\"`) + `\"}\n","stream":"stderr","time":"2024-05-01T10:00:00Z"}`, NodeRoleFallback, "AccessDenied: User:"},
		{"ansi", "\x1b[31mE\x1b[0m " + bare, NodeRoleFallback, "E AccessDenied: User:"},
		{"ansi escaped", `{"msg":"\u001b[31m` + strings.ReplaceAll(bare, `"`, `\"`) + `\u001b[0m"}`, NodeRoleFallback, "AccessDenied: User:"},
		{"crlf", bare + "\r", NodeRoleFallback, "AccessDenied: User:"},
		{"json escaped newlines", `{"level":"error","error":"` + trust + `"}`, TrustRejected, "caused by: AccessDenied: Not authorized"},
		{"double escaped newlines", `{"log":"{\"error\":\"WebIdentityErr: failed to retrieve credentials\\ncaused by: InvalidIdentityToken: Incorrect token audience\\n\\tstatus code: 400\"}\n"}`, BadAudience, "caused by: InvalidIdentityToken: Incorrect"},
	}
	c := &Classifier{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := c.ClassifyLine(tc.line)
			if !ok || f.ID != tc.want {
				t.Fatalf("got %q ok=%v, want %s\n  line: %s", f.ID, ok, tc.want, tc.line)
			}
			if !strings.HasPrefix(f.Excerpt, tc.excerpt) {
				t.Errorf("excerpt %q, want prefix %q", f.Excerpt, tc.excerpt)
			}
			if strings.ContainsAny(f.Excerpt, "\x1b\r\n\t\\") {
				t.Errorf("excerpt not cleaned: %q", f.Excerpt)
			}
			if f.ID == NodeRoleFallback && (f.Action != "s3:ListBucket" || f.Resource != "arn:aws:s3:::data" || f.Session != "i-0123456789abcdef0") {
				t.Errorf("fields: %+v", f)
			}
		})
	}
}

// TestCallerParsing covers redacted and broken caller ARNs and partitions.
func TestCallerParsing(t *testing.T) {
	tests := []struct {
		caller                      string
		account, role, session, arn string
		want                        ID
	}{
		{"arn:aws:sts::123456789012:assumed-role/eks-nodes/i-0123456789abcdef0", "123456789012", "eks-nodes", "i-0123456789abcdef0", "", NodeRoleFallback},
		{"arn:aws:sts::XXXXXXXXX:assumed-role/app/i-XXXXXXXX", "XXXXXXXXX", "app", "i-XXXXXXXX", "", NodeRoleFallback},
		{"arn:aws:sts::{redacted}:assumed-role/{redacted}/i-{redacted}", "{redacted}", "{redacted}", "i-{redacted}", "", NodeRoleFallback},
		{"arn:aws:sts::<MY_ACCOUNT>:assumed-role/<ROLE>/i-<ID>", "<MY_ACCOUNT>", "<ROLE>", "i-<ID>", "", NodeRoleFallback},
		{"arn:aws:sts::xxxxxxxxxx:assumed-role/api/botocore-session-1", "xxxxxxxxxx", "api", "botocore-session-1", "", PermissionMissing},
		{"arn:aws:sts::acctid:assumed-role/api/aws-go-sdk-1700000000", "acctid", "api", "aws-go-sdk-1700000000", "", PermissionMissing},
		{"arn:aws:sts:XXXXXXXXXassumed-role/eks-NodeInstanceRole-X/i-XXXXXXXXXX", "XXXXXXXXX", "eks-NodeInstanceRole-X", "i-XXXXXXXXXX", "", NodeRoleFallback},
		{"arn:aws:sts::80xxxxx assumed-role/cert-manager/1667383896419927778", "80xxxxx", "cert-manager", "1667383896419927778", "", PermissionMissing},
		{"arn:aws-cn:sts::123456789012:assumed-role/app/aws-sdk-java-1", "123456789012", "app", "aws-sdk-java-1", "", PermissionMissing},
		{"arn:aws-us-gov:sts::123456789012:assumed-role/app/i-0123abcd", "123456789012", "app", "i-0123abcd", "", NodeRoleFallback},
		{"arn:aws:iam::123456789012:role/path/app", "123456789012", "app", "", "", PermissionMissing},
		{"arn:aws:iam::123456789012:user/ci", "123456789012", "", "", "", StaticCredentials},
		{"arn:aws:iam::123456789012:root", "123456789012", "", "", "", StaticCredentials},
	}
	c := &Classifier{}
	for _, tc := range tests {
		line := "AccessDenied: User: " + tc.caller + " is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:eu-west-1:1:q"
		f, ok := c.ClassifyLine(line)
		if !ok || f.ID != tc.want {
			t.Errorf("%s: got %q ok=%v, want %s (%s)", tc.caller, f.ID, ok, tc.want, f.Reason)
			continue
		}
		if f.CallerARN != tc.caller || f.Account != tc.account || f.Role != tc.role || f.Session != tc.session {
			t.Errorf("%s: got caller %q account %q role %q session %q", tc.caller, f.CallerARN, f.Account, f.Role, f.Session)
		}
		if f.Action != "sqs:SendMessage" || f.Resource != "arn:aws:sqs:eu-west-1:1:q" {
			t.Errorf("%s: action %q resource %q", tc.caller, f.Action, f.Resource)
		}
	}
}

func TestActionResource(t *testing.T) {
	tests := []struct{ rest, action, resource string }{
		{`: s3:GetObject on resource: "arn:aws:s3:::b/k" because no identity-based policy allows`, "s3:GetObject", "arn:aws:s3:::b/k"},
		{`: iam:GetRole on resource: role XPTO with an explicit deny in an identity-based policy`, "iam:GetRole", "role XPTO"},
		{`: iam:UpdateRole on resource: role svcop-main`, "iam:UpdateRole", "role svcop-main"},
		{`: sts:AssumeRole on resource: arn:aws:iam::1:role/x` + "\n\tstatus code: 403", "sts:AssumeRole", "arn:aws:iam::1:role/x"},
		{`: glue:GetTable on resource: arn:aws:glue:us-east-1:1:table/db/t (Service: Glue, Status Code: 400)`, "glue:GetTable", "arn:aws:glue:us-east-1:1:table/db/t"},
		{`: secretsmanager:GetSecretValue on resource: sandbox/app1 because no identity-based policy allows the action -`, "secretsmanager:GetSecretValue", "sandbox/app1"},
		{`: route53:ListHostedZones` + "\n\tstatus code: 403", "route53:ListHostedZones", ""},
		{` autoscaling:DescribeTags         status code: 403`, "autoscaling:DescribeTags", ""},
		{` s3:Get* on resource 'arn:aws:s3:::b'`, "s3:Get*", "arn:aws:s3:::b"},
		{` this operation`, "", ""},
		// Cut by the log: the "..." stays, so the part is not taken for the resource.
		{`: s3:GetObject on resource: arn:aws:s3:::reports-prod/2024/05/...`, "s3:GetObject", "arn:aws:s3:::reports-prod/2024/05/..."},
		{`: s3:GetObject on resource: arn:aws:s3:::reports-prod/2024/05/q1-fin... (Service: S3)`, "s3:GetObject", "arn:aws:s3:::reports-prod/2024/05/q1-fin..."},
		{`: s3:GetObject on resource: arn:aws:s3:::reports-prod/2024/05/q1-fin... because no identity-based policy allows`, "s3:GetObject", "arn:aws:s3:::reports-prod/2024/05/q1-fin..."},
		{`: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:1:table/ord... more text`, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/ord..."},
		{`: iam:GetRole on resource: role very-long-na...`, "iam:GetRole", "role very-long-na..."},
		// A full stop or a dot in the name is not a cut.
		{`: sqs:SendMessage on resource: arn:aws:sqs:eu-west-1:1:q.`, "sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:q"},
		{`: s3:GetObject on resource: arn:aws:s3:::b/v1.2.tar. Retrying`, "s3:GetObject", "arn:aws:s3:::b/v1.2.tar"},
	}
	for _, tc := range tests {
		a, r := parseActionResource(tc.rest)
		if a != tc.action || r != tc.resource {
			t.Errorf("parseActionResource(%q) = %q, %q; want %q, %q", tc.rest, a, r, tc.action, tc.resource)
		}
	}
}

func TestInstanceIDKind(t *testing.T) {
	tests := map[string]string{
		"i-0123456789abcdef0":  "id",
		"i-0123abcd":           "id",
		"i-123456789abcde":     "id",
		"i-076b0f0634dsabdbf":  "id",
		"i-XXXXXXXXXX":         "redacted",
		"i-xxxxxxxx":           "redacted",
		"i-<MY_EC2_ID>":        "redacted",
		"i-{redacted}":         "redacted",
		"i-***":                "redacted",
		"i-am-admin":           "",
		"i-deploybot":          "",
		"botocore-session-123": "",
		"":                     "",
		"1700000000000000000":  "",
	}
	for sess, want := range tests {
		if got := instanceIDKind(sess); got != want {
			t.Errorf("instanceIDKind(%q) = %q, want %q", sess, got, want)
		}
	}
}

func TestNodeRoleNames(t *testing.T) {
	node := []string{"eksctl-prod-nodegroup-ng-1-NodeInstanceRole-ABC", "prd-node-role-2024", "eks-nodes-sandbox",
		"worker-group-eks-node-group-1", "KarpenterNodeRole-prod", "nodes.k8s.example.com", "eks_node_role", "EKSNodeRole",
		"my-cluster-eks-node-group-2024"}
	notNode := []string{"external-dns", "ClusterAutoscalerKubernetesRole", "k8s-ui-apps", "sandbox-service-operator",
		"nodejs-api", "{redacted}", "cert-manager"}
	for _, r := range node {
		if !looksLikeNodeRole(r) {
			t.Errorf("%s should look like a node role", r)
		}
	}
	for _, r := range notNode {
		if looksLikeNodeRole(r) {
			t.Errorf("%s should not look like a node role", r)
		}
	}
	c := &Classifier{NodeRoles: map[string]bool{"Prod-NG": true, "off": false}}
	if !c.isNodeRole("prod-ng") || c.isNodeRole("off") || c.isNodeRole("other") {
		t.Error("NodeRoles lookup should ignore case and honour false values")
	}
	var nilc *Classifier
	if nilc.isNodeRole("x") {
		t.Error("nil classifier")
	}
}

// TestASCIILower checks the eight-bytes-at-a-time lowering against the byte
// by byte definition: every byte value at every offset of a word, UTF-8 kept.
func TestASCIILower(t *testing.T) {
	want := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if c >= 'A' && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		return string(b)
	}
	lines := []string{"", "A", "already lower", "ÀÉ@[`{AZaz", strings.Repeat("\xff\x80@[AZ`{", 9),
		"héllo WORLD ÄÖÜ \x00\x7f\xc0ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
	for c := range 256 {
		for pos := range 9 {
			lines = append(lines, strings.Repeat("a", pos)+string([]byte{byte(c)})+"Qxxxxxxxxxxxxxxx")
		}
	}
	for _, s := range lines {
		if got := asciiLower(s); got != want(s) {
			t.Errorf("asciiLower(%q) = %q", s, got)
		}
	}
}
