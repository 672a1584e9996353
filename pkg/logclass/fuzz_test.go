package logclass

import (
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
)

// FuzzClassifyLine checks that no input panics, that findings are well
// formed, and that Scan over the same line agrees with ClassifyLine (which
// exercises the byte-search prefilter against the plain keyword check).
func FuzzClassifyLine(f *testing.F) {
	for _, r := range loadCorpus(f) {
		f.Add(r.line)
	}
	for _, tc := range unseen {
		f.Add(tc.line)
	}
	f.Add("")
	f.Add(`\`)
	f.Add("\x1b[")
	f.Add(`User: arn: is not authorized to perform`)
	f.Add(`arn:aws:sts:: assumed-role/ is not authorized to perform: a:b on resource: "`)
	c := &Classifier{NodeRoles: map[string]bool{"eks-nodes": true}}
	f.Fuzz(func(t *testing.T, line string) {
		if hasKeyword(line) != hasKeywordSlow(line) {
			t.Fatalf("hasKeyword disagrees with its definition")
		}
		got, ok := c.ClassifyLine(line)
		if ok {
			if !slices.Contains(allIDs, got.ID) {
				t.Fatalf("unknown id %q", got.ID)
			}
			if got.Confidence != confHigh && got.Confidence != confMedium && got.Confidence != confLow {
				t.Fatalf("confidence %q", got.Confidence)
			}
			if got.Line != 1 || got.Reason == "" || len(got.Excerpt) > 300 || !utf8.ValidString(got.Excerpt) {
				t.Fatalf("malformed finding %+v", got)
			}
			// Every string is already redacted and safe for YAML.
			for _, fs := range stringsOf(got) {
				if !utf8.ValidString(fs) || safetext.Data(fs) != fs {
					t.Fatalf("unsafe field %q in %+v", fs, got)
				}
			}
		}
		if strings.ContainsAny(line, "\n") {
			return
		}
		var scanned []Finding
		if err := c.Scan(strings.NewReader(line), func(f Finding) { scanned = append(scanned, f) }); err != nil {
			t.Fatal(err)
		}
		if ok != (len(scanned) > 0) || ok && scanned[0].ID != got.ID {
			t.Fatalf("ClassifyLine %v %q, Scan %v", ok, got.ID, scanned)
		}
	})
}

// TestClassifyLineBoundedTime feeds 64 KiB lines built to stress every
// rule (repeated keywords, hosts, ARNs, escapes, ANSI) and checks each is
// classified quickly: all work must stay linear in the line length.
func TestClassifyLineBoundedTime(t *testing.T) {
	pieces := []string{
		"User: arn:aws:sts::123456789012:assumed-role/eks-nodes/i-0123456789abcdef0 is not authorized to perform: s3:GetObject on resource: ",
		"amazonaws.com", "sts.amazonaws.com", "lookup ", "no such host ", `\n`, `\"`, `\u001b[31m`, "\x1b[", "arn:",
		"is not authorized to perform", "Not authorized to perform sts:AssumeRoleWithWebIdentity ", "ExpiredToken ",
		"/var/run/secrets/eks.amazonaws.com/serviceaccount/token", "failed to retrieve credentials ", "Region ",
		"OpenIDConnect thumbprint ", "ValidationError roleArn ", "a.b.c.d-e-f.", "                ",
	}
	rng := rand.New(rand.NewSource(1))
	lines := []string{}
	for _, p := range pieces {
		lines = append(lines, strings.Repeat(p, 64<<10/len(p)+1)[:64<<10])
	}
	var mixed strings.Builder
	for mixed.Len() < 64<<10 {
		mixed.WriteString(pieces[rng.Intn(len(pieces))])
	}
	lines = append(lines, mixed.String())
	random := make([]byte, 64<<10)
	for i := range random {
		random[i] = byte(rng.Intn(256))
	}
	lines = append(lines, string(random))

	c := &Classifier{}
	for i, line := range lines {
		start := time.Now()
		c.ClassifyLine(line)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("line %d (%.20q...): ClassifyLine took %v on 64 KiB", i, line, d)
		}
	}
	// The same through Scan, with the lines as one log.
	start := time.Now()
	if err := c.Scan(strings.NewReader(strings.Join(lines, "\n")), func(Finding) {}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Scan took %v on %d KiB", d, len(lines)*64)
	}
}

// FuzzFindingSecrets puts a seeded credential, in the contexts logs print
// them, into lines that classify, and checks it never reaches a finding.
func FuzzFindingSecrets(f *testing.F) {
	for _, line := range secretLog {
		f.Add(line, uint8(0), uint8(0))
	}
	f.Add("AccessDenied: User: arn:aws:sts::123456789012:assumed-role/app/s is not authorized to perform: s3:GetObject", uint8(3), uint8(1))
	f.Add("botocore.exceptions.NoCredentialsError: Unable to locate credentials", uint8(4), uint8(5))
	contexts := []string{" %s ", " AWS_SECRET_ACCESS_KEY=%s ", ` "SessionToken":"%s" `, " Authorization: Bearer %s\n", ` {"X-Amz-Security-Token":["%s"]} `, "\\n%s,", " token=%s&"}
	c := &Classifier{}
	f.Fuzz(func(t *testing.T, line string, which, where uint8) {
		secret := seeded[int(which)%5] // whole credentials, recognisable alone
		if strings.Contains(line, secret) {
			// The property is about the contexts below; a credential the
			// fuzzer glued into other text (a 40-character key within a
			// longer run) is not recognisable.
			return
		}
		ctx := strings.Replace(contexts[int(where)%len(contexts)], "%s", secret, 1)
		at := 0
		if len(line) > 0 {
			at = int(where) * 7 % (len(line) + 1)
		}
		// Insert at a byte boundary that keeps the credential delimited.
		in := line[:at] + ctx + line[at:]
		got, ok := c.ClassifyLine(in)
		if !ok {
			return
		}
		for _, fs := range stringsOf(got) {
			if strings.Contains(fs, secret) {
				t.Fatalf("secret %q in finding field %q (line %q)", secret, fs, in)
			}
		}
	})
}
