package logclass

import "strings"

// A denial message of IAM (AccessDenied, UnauthorizedOperation) may say which kind of policy decided it:
// "... with an explicit deny in a service control policy", "... because no permissions boundary allows the
// s3:GetObject action". These fields of Finding carry what it said, for doctor --suggest-policy: an Allow in
// the role's identity policy fixes only a denial that no other kind of policy decided.

// Blocked names the kind of policy a denial message blames, as IAM words it.
type Blocked struct {
	// Policy is "identity-based policy", "service control policy", "resource control policy", "permissions
	// boundary", "session policy", "resource-based policy" or "VPC endpoint policy"; "" when the message names
	// none.
	Policy string `json:",omitempty"`
	// Explicit is true for "with an explicit deny in ..." and false for "because no ... allows".
	Explicit bool `json:",omitempty"`
}

// denialPolicies are the policy kinds IAM's denial messages name, lower-cased as in the message.
var denialPolicies = []string{"identity-based policy", "service control policy", "resource control policy",
	"permissions boundary", "session policy", "resource-based policy", "vpc endpoint policy"}

// blockedBy reads the policy kind a lower-cased denial message names after "explicit deny in" or "because no".
func blockedBy(l string) Blocked {
	for _, form := range []struct {
		prefix   string
		explicit bool
	}{{"explicit deny in ", true}, {"because no ", false}} {
		i := strings.Index(l, form.prefix)
		if i < 0 {
			continue
		}
		rest := strings.TrimPrefix(strings.TrimPrefix(l[i+len(form.prefix):], "a "), "an ")
		for _, p := range denialPolicies {
			if strings.HasPrefix(rest, p) {
				if p == "vpc endpoint policy" {
					p = "VPC endpoint policy"
				}
				return Blocked{Policy: p, Explicit: form.explicit}
			}
		}
	}
	return Blocked{}
}

// encodedMessage is how AWS (EC2's UnauthorizedOperation, STS, ...) introduces the encoded authorization
// message only sts:DecodeAuthorizationMessage can read.
const encodedMessage = "encoded authorization failure message"

// hasEncodedMessage reports whether a lower-cased line carries an encoded authorization message.
func hasEncodedMessage(l string) bool { return strings.Contains(l, encodedMessage) }
