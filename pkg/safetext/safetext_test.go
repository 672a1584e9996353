package safetext

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// Seeded secrets (AWS documentation examples and made-up tokens).
const (
	accessKeyID  = "AKIAIOSFODNN7EXAMPLE"
	tempKeyID    = "ASIAQWERTYUIOP234567"
	secretKey    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sessionToken = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexampleexampleexampleexampleexampleAiAexampleexample+example/example=="
	jwt          = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9.eyJpc3MiOiJodHRwczovL29pZGMuZWtzIiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmRlZmF1bHQ6YXBwIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"
	signature    = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
	bearer       = "sk_live_0123456789abcdefXYZ"
)

// secrets are the strings that must never survive Redact.
var secrets = []string{accessKeyID, tempKeyID, secretKey, sessionToken, jwt, signature, bearer,
	// Distinctive fragments.
	"IOSFODNN7EXAMPLE", "bPxRfiCYEXAMPLEKEY", "c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl", "0123456789abcdefXYZ"}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nothing secret here: AccessDenied for arn:aws:iam::123456789012:role/app", "nothing secret here: AccessDenied for arn:aws:iam::123456789012:role/app"},
		{"key " + accessKeyID + " used", "key AKIA[REDACTED] used"},
		{"aws_access_key_id=" + tempKeyID, "aws_access_key_id=ASIA[REDACTED]"},
		{"aws_secret_access_key = " + secretKey, "aws_secret_access_key = [REDACTED]"},
		{"AWS_SECRET_ACCESS_KEY=" + secretKey + " AWS_REGION=us-east-1", "AWS_SECRET_ACCESS_KEY=[REDACTED] AWS_REGION=us-east-1"},
		{`{"AccessKeyId":"` + tempKeyID + `","SecretAccessKey":"` + secretKey + `","SessionToken":"` + sessionToken + `"}`,
			`{"AccessKeyId":"ASIA[REDACTED]","SecretAccessKey":"[REDACTED]","SessionToken":"[REDACTED]"}`},
		{`{"msg":"{\"secretAccessKey\":\"` + secretKey + `\"}"}`, `{"msg":"{\"secretAccessKey\":\"[REDACTED]\"}"}`},
		{"{AccessKeyID:" + tempKeyID + " SecretAccessKey:" + secretKey + " SessionToken:" + sessionToken + " Source:WebIdentity}",
			"{AccessKeyID:ASIA[REDACTED] SecretAccessKey:[REDACTED] SessionToken:[REDACTED] Source:WebIdentity}"},
		{"export AWS_SESSION_TOKEN='" + sessionToken + "'", "export AWS_SESSION_TOKEN='[REDACTED]'"},
		{"token " + sessionToken + " end", "token [REDACTED] end"},
		{"bare secret " + secretKey + ".", "bare secret [REDACTED]."},
		{"sha 0123456789abcdef0123456789abcdef01234567 stays", "sha 0123456789abcdef0123456789abcdef01234567 stays"},
		{"token=" + jwt + "&x=1", "token=[REDACTED-JWT]&x=1"},
		{"Authorization: Bearer " + jwt, "Authorization: Bearer [REDACTED]"},
		{"authorization: bearer " + bearer + "\nnext", "authorization: bearer [REDACTED]\nnext"},
		{"Authorization:[AWS4-HMAC-SHA256 Credential=" + tempKeyID + "/20240501/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + signature + "] User-Agent:[aws-sdk-go/1.44.0]",
			"Authorization:[AWS4-HMAC-SHA256 [REDACTED]] User-Agent:[aws-sdk-go/1.44.0]"},
		{`"Authorization": "AWS4-HMAC-SHA256 Credential=` + accessKeyID + `/20240501/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=` + signature + `"`,
			`"Authorization": "AWS4-HMAC-SHA256 [REDACTED]"`},
		{"Credential=" + accessKeyID + "/20240501/us-east-1/sts/aws4_request, Signature=" + signature, "Credential=[REDACTED], Signature=[REDACTED]"},
		{"GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + accessKeyID + "%2F20240501%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Security-Token=" + sessionToken + "&X-Amz-Signature=" + signature + " 403",
			"GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=[REDACTED]&X-Amz-Security-Token=[REDACTED]&X-Amz-Signature=[REDACTED] 403"},
		{"X-Amz-Security-Token: " + sessionToken, "X-Amz-Security-Token: [REDACTED]"},
		{`password => "hunter22"`, `password => "[REDACTED]"`},
		{"web identity token file /var/run/secrets/eks.amazonaws.com/serviceaccount/token: permission denied", "web identity token file /var/run/secrets/eks.amazonaws.com/serviceaccount/token: permission denied"},
		{"AKIA", "AKIA"},
		{"user/" + accessKeyID + "is glued, x" + tempKeyID, "user/AKIA[REDACTED]is glued, xASIA[REDACTED]"},
		{"X" + accessKeyID + " is not a key id", "X" + accessKeyID + " is not a key id"},
		{"", ""},
	}
	for _, tt := range tests {
		got := Redact(tt.in)
		if got != tt.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
		if again := Redact(got); again != got {
			t.Errorf("Redact not idempotent on %q: %q", got, again)
		}
	}
}

func TestRedactNoAllocWhenClean(t *testing.T) {
	line := `{"level":"info","ts":1715511002.727215,"logger":"backend-sg-provider","msg":"cache hit","namespace":"payments","name":"checkout-2e3599"}`
	if n := testing.AllocsPerRun(100, func() { Redact(line); Terminal(line); String(line); Data(line) }); n != 0 {
		t.Errorf("%v allocations for a clean line", n)
	}
}

func TestTerminal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"a\tb\nc\rd\x00\x7f", `a\tb\nc\rd\x00\x7f`},
		{"csi \u009b31m", `csi \u009b31m`},
		{"nel \u0085", `nel \u0085`},
		{"evil \u202egnp.exe \u2066x\u2069 \u200e\u200f\u061c", `evil \u202egnp.exe \u2066x\u2069 \u200e\u200f\u061c`},
		{"bad \xff\xc3", `bad \xff\xc3`},
		{"ünïcödé 日本 🙂", "ünïcödé 日本 🙂"},
		{"\u2028\ufeff\uffff", `\u2028\ufeff\uffff`},
	}
	for _, tt := range tests {
		if got := Terminal(tt.in); got != tt.want {
			t.Errorf("Terminal(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Data("a\tb\nc\x1b\u009b"); got != "a\tb\nc\\x1b\\u009b" {
		t.Errorf("Data kept %q", got)
	}
	if got := String("\x1b]0;title\x07 key " + accessKeyID); got != `\x1b]0;title\x07 key AKIA[REDACTED]` {
		t.Errorf("String = %q", got)
	}
}

// TestDataYAML: a value holding U+009B (which makes sigs.k8s.io/yaml fail:
// encoding/json writes it raw and the YAML reader refuses C1 controls)
// marshals once passed through Data.
func TestDataYAML(t *testing.T) {
	v := map[string]string{"excerpt": "AccessDenied \u009b31m\x7f\ufffe \u202e " + secretKey}
	if _, err := yaml.Marshal(v); err == nil {
		t.Log("note: yaml.Marshal accepted the raw value")
	}
	v["excerpt"] = Data(v["excerpt"])
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatalf("yaml.Marshal after Data: %v", err)
	}
	var back map[string]string
	if err := yaml.Unmarshal(out, &back); err != nil || back["excerpt"] != v["excerpt"] {
		t.Fatalf("round trip: %v %q", err, back["excerpt"])
	}
	if strings.Contains(string(out), secretKey) {
		t.Fatalf("secret in YAML output")
	}
}

// hostile: whatever it is, the output of Terminal has no control character,
// bidi override or invalid UTF-8.
func checkTerminal(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("Terminal(%q) = %q: invalid UTF-8", in, out)
	}
	for _, r := range out {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || needsEscape(r) {
			t.Fatalf("Terminal(%q) = %q keeps %U", in, out, r)
		}
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range secrets {
		f.Add("x", s, "y")
	}
	f.Add("Authorization: ", jwt, "")
	f.Add(`{"SecretAccessKey":"`, secretKey, `"}`)
	f.Add("AWS_SESSION_TOKEN=", sessionToken, " x")
	f.Add("X-Amz-Signature=", signature, "&")
	f.Add("\x1b[31m", "\u009b\u202e", "\xff")
	f.Add("password:[", "[REDACTED]", "]")
	f.Fuzz(func(t *testing.T, before, mid, after string) {
		for _, in := range []string{before + mid + after, mid} {
			// The quick pass never hides what the full one finds.
			full := redactor{s: in}
			full.run()
			if full.out != nil && !mayHaveSecret(in) {
				t.Fatalf("mayHaveSecret(%q) = false, but the redactor masks something", in)
			}
			red := Redact(in)
			if again := Redact(red); again != red {
				t.Fatalf("not idempotent:\n in    %q\n once  %q\n twice %q", in, red, again)
			}
			checkTerminal(t, in, Terminal(in))
			checkTerminal(t, in, String(in))
			if d := Data(in); !utf8.ValidString(d) {
				t.Fatalf("Data(%q) invalid UTF-8", in)
			}
		}
		// A seeded secret in any context, delimited as a log would
		// delimit it, never survives.
		for i, s := range secrets[:7] {
			ctx := []string{
				"AWS_SECRET_ACCESS_KEY=" + s,
				`"SessionToken":"` + s + `"`,
				"Authorization: Bearer " + s + "\n" + after,
				"X-Amz-Signature=" + s + "&" + after,
			}
			// Recognisable without a key (not a bare hex signature or
			// an opaque bearer token).
			if i < 5 {
				ctx = append(ctx, before+" "+s+" "+after, before+"\n"+s+","+after)
			}
			for _, in := range ctx {
				if out := Redact(in); strings.Contains(out, s) {
					t.Fatalf("secret %q survives in %q", s, out)
				}
			}
		}
	})
}

// TestRedactLinear: hostile inputs take linear time.
func TestRedactLinear(t *testing.T) {
	pieces := []string{"a/", "AKIA", "eyJa.", "aws_secret_access_key=", "password:", "Authorization: AWS4-HMAC-SHA256 a,", "IQoJb3JpZ2lu", "Bearer ", "x=\"\\"}
	for _, p := range pieces {
		s := strings.Repeat(p, (1<<20)/len(p))
		start := time.Now()
		Redact(s)
		Terminal(s)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q x %d: %v", p, len(s)/len(p), d)
		}
	}
}

// BenchmarkRedactClean measures a log line without credentials (the common
// case: nothing allocated).
func BenchmarkRedactClean(b *testing.B) {
	line := `E0501 10:00:00.000000       1 aws_manager.go:148] cannot autodiscover ASGs: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/cluster-autoscaler/botocore-session-1700124753 is not authorized to perform: autoscaling:DescribeTags`
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		Redact(line)
	}
}

// BenchmarkRedactSecrets measures a line with several credentials.
func BenchmarkRedactSecrets(b *testing.B) {
	line := `{"AccessKeyId":"` + tempKeyID + `","SecretAccessKey":"` + secretKey + `","SessionToken":"` + sessionToken + `","Authorization":"Bearer ` + jwt + `"}`
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		Redact(line)
	}
}
