package plugin

import (
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestDoctorSuggestPolicy: --suggest-policy prints the policy on stdout and the link command on stderr (exit 0),
// exits 1 when no identity policy can fix the log's denials (a node role, an SCP), 2 when the log names several
// roles, and refuses a namespace scan.
func TestDoctorSuggestPolicy(t *testing.T) {
	const (
		app   = "User: arn:aws:sts::123456789012:assumed-role/orders-app/botocore-session-1 is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::orders/in/* because no identity-based policy allows the s3:GetObject action\n"
		other = "User: arn:aws:sts::123456789012:assumed-role/billing-app/botocore-session-1 is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::billing/x because no identity-based policy allows the s3:GetObject action\n"
		node  = "User: arn:aws:sts::123456789012:assumed-role/eks-node/i-0123456789abcdef0 is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::b\n"
		scp   = "User: arn:aws:sts::123456789012:assumed-role/orders-app/botocore-session-1 is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::orders/out/x with an explicit deny in a service control policy\n"
	)
	for _, tc := range []struct {
		name, log  string
		args       []string
		code       int
		out, noOut string
		errOut     string
	}{
		{"policy", app, nil, 0, `"Resource": [` + "\n        \"arn:aws:s3:::orders/in/*\"", "hint", "kubectl irsa link SERVICEACCOUNT -n NAMESPACE --role-name orders-app --policy-file policy.json"},
		{"json", app + scp, []string{"-o", "json"}, 0, `"kind": "PolicySuggestion"`, "hint", ""},
		{"node role", node, nil, 1, "", "Statement", "node's instance role"},
		{"scp only", scp, nil, 1, "", "Statement", "explicit deny in a service control policy blocks it: no identity policy can fix it"},
		{"several roles", app + other, nil, 2, "", "Statement", "denials of 2 roles (billing-app, orders-app)"},
		{"namespace scan", app, []string{"-A"}, 2, "", "Statement", "namespace scan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streams, in, out, errOut := genericiooptions.NewTestIOStreams()
			in.WriteString(tc.log)
			cmd := NewCmdIRSA(streams)
			cmd.SetArgs(append([]string{"doctor", "--logs-file", "-", "--suggest-policy"}, tc.args...))
			if code := Execute(cmd, streams); code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tc.code, errOut)
			}
			if !strings.Contains(out.String(), tc.out) || strings.Contains(out.String(), tc.noOut) {
				t.Errorf("stdout lacks %q or holds %q:\n%s", tc.out, tc.noOut, out)
			}
			if !strings.Contains(errOut.String(), tc.errOut) {
				t.Errorf("stderr lacks %q:\n%s", tc.errOut, errOut)
			}
		})
	}
}
