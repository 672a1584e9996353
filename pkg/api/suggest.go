package api

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// PolicySuggestion is the result of `kubectl irsa doctor --suggest-policy`: the identity policy that allows
// exactly the calls one role was denied, from the denial messages of a log, and what no such policy can fix.
type PolicySuggestion struct {
	metav1.TypeMeta `json:",inline"`
	// Role is the role name the denials name; Account its account as printed (may be redacted or "").
	Role    string `json:"role"`
	Account string `json:"account,omitempty"`
	// Policy allows the denied calls an identity policy can fix; nil when there are none.
	Policy *PolicyDocument `json:"policy,omitempty"`
	// Denials are the denied calls read, in the order of the policy's statements, then the others.
	Denials []SuggestedDenial `json:"denials"`
	// LinkCommand applies Policy (saved as a file) to a ServiceAccount; "" when there is no Policy.
	LinkCommand string `json:"linkCommand,omitempty"`
	// Notes say what the policy leaves out and why.
	Notes []string `json:"notes,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (s *PolicySuggestion) DeepCopyObject() runtime.Object { return DeepCopy(s) }

// PolicyDocument is an IAM identity policy, encoded as IAM reads it (valid for link --policy-file).
type PolicyDocument struct {
	Version   string            `json:"Version"`
	Statement []PolicyStatement `json:"Statement"`
}

// PolicyStatement is one Allow statement of a PolicyDocument.
type PolicyStatement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// SuggestedDenial is one denied call (an action on a resource) and how it can be fixed.
type SuggestedDenial struct {
	Action string `json:"action,omitempty"`
	// Resource is the resource the message named, "" when it named none.
	Resource string `json:"resource,omitempty"`
	// Line is the first log line of the denial; Count how many lines were merged into it.
	Line  int `json:"line,omitempty"`
	Count int `json:"count,omitempty"`
	// Fix is one of the Fix* values.
	Fix string `json:"fix"`
	// Sid is the statement of Policy that allows the call (Fix "identity-policy").
	Sid string `json:"sid,omitempty"`
	// Reason says why, in one sentence, for every Fix but "identity-policy".
	Reason string `json:"reason,omitempty"`
}

// The ways a denied call can be fixed.
const (
	// FixIdentityPolicy: a statement of the suggested policy allows it.
	FixIdentityPolicy = "identity-policy"
	// FixOtherPolicy: an explicit deny, an SCP, an RCP, a permissions boundary, a session or VPC endpoint
	// policy decided it; no identity policy can fix it.
	FixOtherPolicy = "other-policy"
	// FixLink: the caller is a node role; the fix is the pod's own role (link), not more node permissions.
	FixLink = "link"
	// FixDecode: only an encoded authorization message names the call; decode it first.
	FixDecode = "decode"
	// FixUnusable: the action or resource as printed cannot be written into a policy (cut, escaped, too long).
	FixUnusable = "unusable"
)
