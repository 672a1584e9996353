package logclass

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// Seeded credentials (AWS documentation examples, made-up tokens).
const (
	seedKeyID   = "AKIAIOSFODNN7EXAMPLE"
	seedTempKey = "ASIAQWERTYUIOP234567"
	seedSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	seedToken   = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexampleexampleexampleexampleexampleAiAexampleexample+example/example=="
	seedJWT     = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9.eyJpc3MiOiJodHRwczovL29pZGMuZWtzIiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmRlZmF1bHQ6YXBwIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"
	seedSig     = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
)

var seeded = []string{seedKeyID, seedTempKey, seedSecret, seedToken, seedJWT, seedSig,
	"IOSFODNN7EXAMPLE", "QWERTYUIOP234567", "bPxRfiCYEXAMPLEKEY", "c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"}

// secretLog is a log whose matching lines carry credentials next to the
// evidence.
var secretLog = []string{
	`time="2024-05-01T10:00:00Z" level=error msg="WebIdentityErr: failed to retrieve credentials\ncaused by: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity" token=` + seedJWT + ` AWS_ACCESS_KEY_ID=` + seedTempKey + ` AWS_SECRET_ACCESS_KEY=` + seedSecret + ` AWS_SESSION_TOKEN=` + seedToken,
	`User: arn:aws:iam::123456789012:user/ci-` + seedKeyID + ` is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/k?X-Amz-Credential=` + seedKeyID + `%2F20240501%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=` + seedSig + `" Authorization: AWS4-HMAC-SHA256 Credential=` + seedKeyID + `/20240501/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=` + seedSig,
	`{"level":"error","msg":"AccessDenied: User: arn:aws:sts::123456789012:assumed-role/app/` + seedTempKey + ` is not authorized to perform: sqs:SendMessage","headers":{"Authorization":"Bearer ` + seedJWT + `","X-Amz-Security-Token":"` + seedToken + `"}}`,
	`botocore.exceptions.NoCredentialsError: Unable to locate credentials {"AccessKeyId":"` + seedTempKey + `","SecretAccessKey":"` + seedSecret + `","SessionToken":"` + seedToken + `"}`,
	`ExpiredToken: The security token included in the request is expired ` + seedToken + ` ` + seedSecret + ` ` + seedJWT,
	`An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity; web identity token ` + seedJWT,
}

// stringsOf returns every string field of f.
func stringsOf(f Finding) []string {
	var out []string
	v := reflect.ValueOf(f)
	for i := range v.NumField() {
		if fv := v.Field(i); fv.Kind() == reflect.String {
			out = append(out, fv.String())
		}
	}
	return out
}

func checkNoSecret(t *testing.T, f Finding) {
	t.Helper()
	for _, s := range stringsOf(f) {
		for _, sec := range seeded {
			if strings.Contains(s, sec) {
				t.Errorf("finding %s carries secret %.20q... in %q", f.ID, sec, s)
			}
		}
		if !utf8.ValidString(s) {
			t.Errorf("finding %s: invalid UTF-8 %q", f.ID, s)
		}
	}
}

func TestFindingsCarryNoSecrets(t *testing.T) {
	c := &Classifier{}
	for _, line := range secretLog {
		f, ok := c.ClassifyLine(line)
		if !ok {
			t.Errorf("no finding for %.80q", line)
			continue
		}
		checkNoSecret(t, f)
		if !strings.Contains(f.Excerpt, "[REDACTED") {
			t.Errorf("%s excerpt shows nothing redacted: %q", f.ID, f.Excerpt)
		}
		if strings.Count(f.Excerpt, "[REDACTED") != strings.Count(f.Excerpt, "]") {
			t.Errorf("%s excerpt cuts a marker: %q", f.ID, f.Excerpt)
		}
	}
	log := strings.Join(secretLog, "\n") + "\n"
	findings, err := c.Collect(strings.NewReader(log))
	if err != nil || len(findings) < len(secretLog)-1 {
		t.Fatalf("Collect: %d findings, %v", len(findings), err)
	}
	for _, f := range findings {
		checkNoSecret(t, f)
	}
	js := fmt.Sprintf("%+v", findings)
	for _, sec := range seeded {
		if strings.Contains(js, sec) {
			t.Errorf("secret %.20q in %s", sec, js)
		}
	}
}

// TestFindingYAML: a control character in a log line (U+009B, which
// encoding/json writes raw and the YAML reader behind sigs.k8s.io/yaml
// refuses) does not stop a finding from marshalling.
func TestFindingYAML(t *testing.T) {
	if _, err := yaml.Marshal(map[string]string{"x": "a\u009bb"}); err == nil {
		t.Log("note: sigs.k8s.io/yaml now accepts U+009B")
	}
	c := &Classifier{}
	line := "\u009b31mAccessDenied\u202e: User: arn:aws:sts::123456789012:assumed-role/app\u009b/sess\x7f is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::b/k\u0085\ufffe\xff\""
	f, ok := c.ClassifyLine(line)
	if !ok {
		t.Fatal("no finding")
	}
	out, err := yaml.Marshal(f)
	if err != nil {
		t.Fatalf("yaml.Marshal: %v", err)
	}
	for _, bad := range []string{"\u009b", "\u202e", "\x7f", "\u0085", "\ufffe"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("YAML keeps %q:\n%s", bad, out)
		}
	}
	var back Finding
	if err := yaml.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, f) {
		t.Errorf("round trip: %v\n%+v\n%+v", err, back, f)
	}
}

func TestCollector(t *testing.T) {
	c := &Classifier{}
	var b strings.Builder
	const n = 20000
	for i := range n {
		fmt.Fprintf(&b, "AccessDenied: User: arn:aws:sts::123456789012:assumed-role/app/botocore-session-%d is not authorized to perform: s3:GetObject\n", i)
		if i%2 == 0 {
			fmt.Fprintf(&b, "botocore.exceptions.NoCredentialsError: Unable to locate credentials\n")
		}
	}
	var col Collector
	if err := c.Scan(strings.NewReader(b.String()), col.Add); err != nil {
		t.Fatal(err)
	}
	got := col.Findings()
	if len(got) != 2 || col.Records() != n+n/2 {
		t.Fatalf("%d findings from %d records: %+v", len(got), col.Records(), got)
	}
	if got[0].ID != PermissionMissing || got[0].Count != n || got[0].Line != 1 || len(got[0].Lines) != DefaultMaxLines || got[0].Lines[1] != 3 {
		t.Errorf("first: %+v", got[0])
	}
	if got[1].ID != NoCredentials || got[1].Count != n/2 || got[1].Line != 2 {
		t.Errorf("second: %+v", got[1])
	}

	// Distinct identities beyond MaxFindings are counted in Others of the
	// first finding of their id, not as lines like it.
	col = Collector{MaxFindings: 5, MaxLines: 2}
	for i := range 1000 {
		col.Add(Finding{ID: PermissionMissing, Role: "app", Action: fmt.Sprintf("s3:Get%d", i), Line: i + 1})
	}
	col.Add(Finding{ID: TokenExpired, Line: 2000})
	got = col.Findings()
	if len(got) != 6 || got[0].Count != 1 || got[0].Others != 995 || len(got[0].Lines) != 1 || got[5].ID != TokenExpired || got[5].Count != 1 {
		t.Errorf("capped: %d findings, first %+v", len(got), got[0])
	}
}

// TestCollectorKeepsWhatBlockedACall: one call denied by different kinds of
// policy (read from real-shaped messages) stays apart, so that
// --suggest-policy sees the denial no identity policy can fix; the same
// denial repeated still merges.
func TestCollectorKeepsWhatBlockedACall(t *testing.T) {
	const caller = "User: arn:aws:sts::123456789012:assumed-role/app/botocore-session-1 is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k "
	tests := []struct {
		name  string
		lines []string
		want  []Blocked // of the merged findings, in order
	}{
		{"same reason merges", []string{
			"AccessDenied: " + caller + "because no identity-based policy allows the s3:GetObject action",
			"AccessDenied: " + caller + "because no identity-based policy allows the s3:GetObject action",
		}, []Blocked{{Policy: "identity-based policy"}}},
		{"identity policy then SCP", []string{
			"AccessDenied: " + caller + "because no identity-based policy allows the s3:GetObject action",
			"AccessDenied: " + caller + "with an explicit deny in a service control policy",
		}, []Blocked{{Policy: "identity-based policy"}, {Policy: "service control policy", Explicit: true}}},
		{"boundary and session policy", []string{
			"AccessDenied: " + caller + "because no permissions boundary allows the s3:GetObject action",
			"AccessDenied: " + caller + "because no session policy allows the s3:GetObject action",
			"AccessDenied: " + caller + "because no permissions boundary allows the s3:GetObject action",
		}, []Blocked{{Policy: "permissions boundary"}, {Policy: "session policy"}}},
		{"no reason given and a reason", []string{
			"AccessDenied: " + caller,
			"AccessDenied: " + caller + "with an explicit deny in an identity-based policy",
		}, []Blocked{{}, {Policy: "identity-based policy", Explicit: true}}},
	}
	c := &Classifier{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var col Collector
			if err := c.Scan(strings.NewReader(strings.Join(tc.lines, "\n")+"\n"), col.Add); err != nil {
				t.Fatal(err)
			}
			var got []Blocked
			for _, f := range col.Findings() {
				if f.Action != "s3:GetObject" || f.Resource != "arn:aws:s3:::b/k" {
					t.Errorf("finding %s: action %q resource %q", f.ID, f.Action, f.Resource)
				}
				got = append(got, f.Blocked)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("merged into %+v, want %+v", got, tc.want)
			}
		})
	}
}

// matchingReader yields lines lines, each with a finding (a new session
// name each time), without holding the log in memory.
type matchingReader struct {
	lines, i int
	pending  []byte
}

func (r *matchingReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.pending) == 0 {
			if r.i >= r.lines {
				break
			}
			r.pending = fmt.Appendf(r.pending[:0], `E0501 10:00:00.000000       1 aws_manager.go:148] cannot autodiscover ASGs: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/cluster-autoscaler/botocore-session-%d is not authorized to perform: autoscaling:DescribeTags`+"\n", r.i)
			r.i++
		}
		k := copy(p[n:], r.pending)
		r.pending = r.pending[k:]
		n += k
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// BenchmarkScanMillionMatching scans a log of 1,000,000 matching lines
// (about 200 MB) into a Collector: time and allocations are linear in the
// lines, the memory held is flat (one merged finding).
func BenchmarkScanMillionMatching(b *testing.B) {
	c := &Classifier{}
	b.ReportAllocs()
	for b.Loop() {
		var col Collector
		if err := c.Scan(&matchingReader{lines: benchLinesN}, col.Add); err != nil {
			b.Fatal(err)
		}
		if fs := col.Findings(); len(fs) != 1 || fs[0].Count != benchLinesN {
			b.Fatalf("%d findings, %+v", len(fs), fs)
		}
	}
}

var benchLinesN = 1_000_000
