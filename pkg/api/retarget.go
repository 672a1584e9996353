package api

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// RetargetResult is the typed result of `kubectl irsa retarget`.
type RetargetResult struct {
	metav1.TypeMeta `json:",inline"`
	From            RetargetCluster `json:"from"`
	To              RetargetCluster `json:"to"`
	// Provider is the new issuer's IAM OIDC provider (in the caller's account).
	Provider *ProviderInfo `json:"provider,omitempty"`
	// Roles are the roles whose trust admits the old issuer (or whose role an old association uses).
	Roles []RetargetRole `json:"roles"`
	// Associations are the old cluster's Pod Identity associations recreated on the new one.
	Associations []RetargetAssociation `json:"associations,omitempty"`
	Actions      []Action              `json:"actions"`
	DryRun       bool                  `json:"dryRun,omitempty"`
	RemoveOld    bool                  `json:"removeOld,omitempty"`
	// Unchanged: nothing needed writing.
	Unchanged bool     `json:"unchanged"`
	Hints     []string `json:"hints,omitempty"`
	// CouldNotCheck lists the reads that failed (the run stops before writing when there is any).
	CouldNotCheck []string `json:"couldNotCheck,omitempty"`
}

// RetargetCluster is one side of a retarget: its kubeconfig context, EKS cluster and issuer.
type RetargetCluster struct {
	Context string `json:"context"`
	Cluster string `json:"cluster,omitempty"`
	Issuer  string `json:"issuer"`
}

// RetargetRole is one role's retarget: the subjects its trust admits through the old issuer, those copied for
// the new one, the patterns that cannot be copied, those removed with --remove-old, and the tests on the new cluster.
type RetargetRole struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
	// Subjects are the old issuer's exact subjects (all audiences); Added those the new issuer did not admit yet.
	Subjects []string `json:"subjects,omitempty"`
	Added    []string `json:"added,omitempty"`
	// NotCopied are subject patterns (wildcards, or no sub condition) an exact statement cannot copy.
	NotCopied []string `json:"notCopied,omitempty"`
	// Removed are the old issuer's subjects taken out of kubectl irsa's statement (--remove-old).
	Removed []string `json:"removed,omitempty"`
	// TrustSize is the trust's size with the new subjects (characters without whitespace) and TrustQuota the
	// limit it was checked against.
	TrustSize  int            `json:"trustSize,omitempty"`
	TrustQuota int            `json:"trustQuota,omitempty"`
	Tests      []RetargetTest `json:"tests,omitempty"`
}

// RetargetTest is `kubectl irsa test` of one ServiceAccount on the new cluster.
type RetargetTest struct {
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
	// Verdict is pass, fail, not-proven, or skipped (the ServiceAccount is not on the new cluster, or points at
	// another role); Reason says why when it is not pass.
	Verdict string `json:"verdict"`
	Reason  string `json:"reason,omitempty"`
}

// RetargetAssociation is an old Pod Identity association and its copy on the new cluster.
type RetargetAssociation struct {
	Namespace          string `json:"namespace"`
	ServiceAccount     string `json:"serviceAccount"`
	RoleARN            string `json:"roleArn"`
	TargetRoleARN      string `json:"targetRoleArn,omitempty"`
	DisableSessionTags bool   `json:"disableSessionTags,omitempty"`
	// FromID is the old association's id, ToID the new one's ("" until created).
	FromID string `json:"fromId"`
	ToID   string `json:"toId,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (r *RetargetResult) DeepCopyObject() runtime.Object { return DeepCopy(r) }
