package e2e

import (
	"strings"
	"testing"
)

const (
	seededKeyID  = "AKIAIOSFODNN7EXAMPLE"
	seededSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	seededToken  = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexampleexampleexampleexampleexampleAiAexampleexample+example/example=="
	seededJWT    = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9.eyJpc3MiOiJodHRwczovL29pZGMuZWtzIiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmRlZmF1bHQ6YXBwIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"
)

// TestDoctorNeverEchoesSecrets: credentials in matching log lines are masked in human, JSON and YAML output.
func TestDoctorNeverEchoesSecrets(t *testing.T) {
	denied := "AccessDenied: User: arn:aws:sts::123456789012:assumed-role/eks-node-role/i-0abc123 is not authorized to perform: s3:GetObject"
	log := writeLog(t, strings.Join([]string{
		denied + " key=" + seededKeyID + " AWS_SECRET_ACCESS_KEY=" + seededSecret,
		denied + " AWS_SESSION_TOKEN=" + seededToken,
		denied + " Authorization: Bearer " + seededJWT,
		denied + " token " + seededJWT + " \u009b31m\x1b[2J\u202e",
	}, "\n")+"\n")
	for _, format := range []string{"", "json", "yaml"} {
		args := []string{"doctor", "--logs-file", log}
		if format != "" {
			args = append(args, "-o", format)
		}
		r := irsaCmd(t, args...)
		if r.code != 1 || !strings.Contains(r.stdout, "NodeRoleFallback") {
			t.Errorf("-o %q: %s", format, r)
		}
		for _, secret := range []string{seededKeyID, seededSecret, seededToken, seededJWT, "bPxRfiCYEXAMPLEKEY", "c2lnbmF0dXJlc2lnbmF0dXJl"} {
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("-o %q printed %s", format, secret)
			}
		}
		if strings.ContainsAny(r.stdout+r.stderr, "\x1b\u009b\u202e") {
			t.Errorf("-o %q: raw control characters reached the output", format)
		}
	}
}

// TestControlCharactersNeverReachTheTerminal: an annotation with ESC, C1 and bidi characters is escaped by
// list -o wide and test.
func TestControlCharactersNeverReachTheTerminal(t *testing.T) {
	ns := "hostile-ann"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "evil", map[string]string{"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/x\x1b]0;pwned\x07\u009b2J\u202egnp.exe"})
	for _, args := range [][]string{{"list", "-n", ns, "-o", "wide"}, {"test", "evil", "-n", ns}, {"doctor", "evil", "-n", ns}} {
		r := irsaCmd(t, args...)
		if strings.ContainsAny(r.stdout+r.stderr, "\x1b\x07\u009b\u202e") {
			t.Errorf("%v: raw control characters: %q", args, r.stdout+r.stderr)
		}
		if r.stdout+r.stderr == "" {
			t.Errorf("%v printed nothing", args)
		}
	}
}

// TestExitCodeContract: 0 clean, 1 findings or failed test, 2 could not complete (usage error, AWS unreachable).
func TestExitCodeContract(t *testing.T) {
	clean := writeLog(t, "all good\n")
	cases := []struct {
		name string
		r    result
		want int
	}{
		{"doctor clean log", irsaCmd(t, "doctor", "--logs-file", clean), 0},
		{"doctor usage: two targets", irsaCmd(t, "doctor", "a", "b"), 2},
		{"doctor usage: unknown flag", irsaCmd(t, "doctor", "--bogus"), 2},
		{"audit usage", irsaCmd(t, "audit", "extra-arg", "--bogus"), 2},
		{"test usage", irsaCmd(t, "test"), 2},
		{"doctor, AWS unreachable", kubectl(t, env("AWS_ENDPOINT_URL=http://127.0.0.1:1", "AWS_MAX_ATTEMPTS=1"), "irsa", "doctor", "-n", "default"), 2},
		{"test, AWS unreachable", kubectl(t, env("AWS_ENDPOINT_URL=http://127.0.0.1:1", "AWS_MAX_ATTEMPTS=1"), "irsa", "test", "default", "-n", "default"), 2},
	}
	for _, c := range cases {
		if c.r.code != c.want {
			t.Errorf("%s: exit %d, want %d\n%s", c.name, c.r.code, c.want, c.r)
		}
	}
}

// TestVerboseLogsNoToken: at -v=7 (the cap), client-go's request logging of `test` never shows the
// ServiceAccount token it requests or the credentials STS returns.
func TestVerboseLogsNoToken(t *testing.T) {
	ns := "hostile-verbose"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "app", nil)
	mustSucceed(t, irsaCmd(t, "link", "app", "-n", ns))
	r := irsaCmd(t, "test", "app", "-n", ns, "-v=9")
	if r.code != 0 || !strings.Contains(r.stderr, "lowered to 7") || !strings.Contains(r.stderr, "serviceaccounts/app/token") {
		t.Fatalf("test -v=9: %s", r)
	}
	for _, s := range []string{"eyJhbGci", "SecretAccessKey", "SessionToken"} {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("-v=7 output holds %s", s)
		}
	}
}
