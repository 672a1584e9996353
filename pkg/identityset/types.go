// Package identityset is the declarative file of kubectl irsa (`apply -f`, `diff -f`, `export`): an IdentitySet
// says which ServiceAccounts get which role, permissions and mechanism. The package is pure: it parses, validates
// and describes the file; reading live state and planning writes belong to the state layer and the planners.
package identityset

import (
	"encoding/json"
	"fmt"
)

// APIVersion and Kind of an IdentitySet document.
const (
	APIVersion = "irsa.kubectl-irsa.io/v1alpha1"
	Kind       = "IdentitySet"
)

// Mechanisms a role entry can ask for.
const (
	MechanismIRSA        = "irsa"
	MechanismPodIdentity = "pod-identity"
	// MechanismBoth keeps IRSA and adds Pod Identity: a migration window.
	MechanismBoth = "both"
)

// IdentitySet is one document of an identity file.
type IdentitySet struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

// Metadata names the set; the name marks what the set owns (the scope of --prune).
type Metadata struct {
	Name string `json:"name"`
}

// Spec lists the set's roles.
type Spec struct {
	Roles []Role `json:"roles"`
}

// Role is one role entry: the role (by name in the caller's account, created when missing, or by ARN for an existing
// role in any account or path), its mechanism, its ServiceAccounts and their permissions.
type Role struct {
	// Name of a role in the caller's account; created when missing. Exactly one of Name and ARN is set.
	Name string `json:"name,omitempty"`
	// ARN of an existing role (any account, any path).
	ARN string `json:"arn,omitempty"`
	// Path of a role the set creates (default "/").
	Path string `json:"path,omitempty"`
	// Mechanism is irsa (default), pod-identity or both.
	Mechanism string `json:"mechanism,omitempty"`
	// ServiceAccounts as NAMESPACE/NAME; created when missing.
	ServiceAccounts []string `json:"serviceAccounts"`
	// Allow lists actions (SERVICE:Action, wildcards allowed) granted on "*"; exclusive with Policy.
	Allow []string `json:"allow,omitempty"`
	// Policy holds whole IAM statements; exclusive with Allow.
	Policy []Statement `json:"policy,omitempty"`
	// ManagedPolicies are policy ARNs attached to the role.
	ManagedPolicies []string `json:"managedPolicies,omitempty"`
	// PodIdentity tunes the Pod Identity association.
	PodIdentity *PodIdentity `json:"podIdentity,omitempty"`
	// AllowAdmin accepts administrator-equivalent permissions (trust.AdminGrants' rule on Allow or Policy, and the
	// AWS managed administrator policies in ManagedPolicies), which validation refuses otherwise: link's --allow-admin.
	AllowAdmin bool `json:"allowAdmin,omitempty"`
}

// Statement is one IAM identity-policy statement, as IAM spells it.
type Statement struct {
	Sid         string         `json:"Sid,omitempty"`
	Effect      string         `json:"Effect"`
	Action      StringList     `json:"Action,omitempty"`
	NotAction   StringList     `json:"NotAction,omitempty"`
	Resource    StringList     `json:"Resource,omitempty"`
	NotResource StringList     `json:"NotResource,omitempty"`
	Condition   map[string]any `json:"Condition,omitempty"`
}

// StringList is IAM's "one string or a list of strings".
type StringList []string

// PodIdentity holds the optional fields of a Pod Identity association.
type PodIdentity struct {
	// TargetRoleArn is a role in another account the association chains into.
	TargetRoleArn string `json:"targetRoleArn,omitempty"`
	// DisableSessionTags turns off the session tags EKS Auth adds.
	DisableSessionTags bool `json:"disableSessionTags,omitempty"`
}

// Source is where a document came from, for error messages: the file name and the document's index in it (0-based).
type Source struct {
	File  string `json:"file"`
	Index int    `json:"index"`
}

// Document is one parsed IdentitySet with where it came from.
type Document struct {
	Source Source
	Set    IdentitySet
}

// UnmarshalJSON accepts one string or a list of strings.
func (l *StringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = StringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings")
	}
	*l = many
	return nil
}
