package rolelock

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
)

// LockStatus is the typed result of `kubectl irsa lock status` and `lock break` (-o json|yaml).
type LockStatus struct {
	metav1.TypeMeta `json:",inline"`
	Role            string `json:"role"`
	// Backend is "kubernetes" or "s3"; Lock names the lock object (namespace/name, or s3://bucket/key).
	Backend string `json:"backend"`
	Lock    string `json:"lock"`
	// Held: a run holds the lock (before break: the one that held it); Expired: that run stopped renewing it.
	Held    bool    `json:"held"`
	Expired bool    `json:"expired,omitempty"`
	Holder  *Holder `json:"holder,omitempty"`
	// Broken: `lock break` removed it.
	Broken bool `json:"broken,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (s *LockStatus) DeepCopyObject() runtime.Object { return api.DeepCopy(s) }

// Report is the typed result for st as read at now; broken says that `lock break` removed it.
func (st Status) Report(now time.Time, broken bool) *LockStatus {
	r := &LockStatus{TypeMeta: api.TypeMeta("LockStatus"), Role: st.Role, Backend: st.Backend, Lock: st.Lock, Held: st.Held, Broken: broken}
	if st.Held {
		h := st.Holder // written by others: each field bounded as in messages
		h.ID, h.Host, h.Cluster, h.Command = short(h.ID), short(h.Host), short(h.Cluster), short(h.Command)
		r.Holder, r.Expired = &h, st.Expired(now)
	}
	return r
}
