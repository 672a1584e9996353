package inspect

import (
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

func TestIsAWSEndpoint(t *testing.T) {
	for endpoint, want := range map[string]bool{
		"":                                    true,
		"https://sts.amazonaws.com":           true,
		"https://sts.us-east-1.amazonaws.com": true,
		"https://sts.cn-north-1.amazonaws.com.cn": true,
		"https://sts.us-east-1.api.aws":           true,
		"http://127.0.0.1:4566":                   false,
		"http://localhost:5000":                   false,
		"https://amazonaws.com.evil.example":      false,
		"not a url":                               false,
	} {
		if got := IsAWSEndpoint(endpoint); got != want {
			t.Errorf("IsAWSEndpoint(%q) = %v", endpoint, got)
		}
	}
}

// TestJudgeSuccess: once STS accepted, only a certain local refusal fails the test; CannotTell passes with a
// note naming the keys; an emulator endpoint is named as proving nothing.
func TestJudgeSuccess(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ev       *trust.Evaluation
		endpoint string
		pass     bool
		notes    []string
	}{
		{"admits on AWS", &trust.Evaluation{Verdict: trust.Admits, Allowed: true}, "", true, nil},
		{"cannot tell on AWS", &trust.Evaluation{Verdict: trust.CannotTell, UnknownKeys: []string{"aws:SourceIp"}}, "", true, []string{"aws:SourceIp"}},
		{"cannot tell on an emulator", &trust.Evaluation{Verdict: trust.CannotTell, UnknownKeys: []string{"aws:SourceIp"}}, "http://127.0.0.1:9", true, []string{"aws:SourceIp", "STS endpoint http://127.0.0.1:9 is not AWS: its answer proves nothing about the trust"}},
		{"refuses on an emulator", &trust.Evaluation{Verdict: trust.Refuses}, "http://127.0.0.1:9", false, []string{"is not AWS"}},
		{"refuses on AWS", &trust.Evaluation{Verdict: trust.Refuses}, "", false, nil},
		{"not read", nil, "", true, []string{"not evaluated locally"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &TestResult{Verdict: VerdictFail, Trust: tc.ev}
			(&Tester{STSEndpoint: tc.endpoint}).judgeSuccess(res)
			if (res.Verdict == VerdictPass) != tc.pass {
				t.Errorf("verdict %s (%s)", res.Verdict, res.Reason)
			}
			if !tc.pass && res.Reason == "" {
				t.Error("a failure without a reason")
			}
			notes := strings.Join(res.Notes, "\n")
			for _, n := range tc.notes {
				if !strings.Contains(notes, n) {
					t.Errorf("notes %q lack %q", notes, n)
				}
			}
			if len(tc.notes) == 0 && len(res.Notes) != 0 {
				t.Errorf("unexpected notes %q", notes)
			}
		})
	}
}
