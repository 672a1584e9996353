package plugin

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// printPodIdentityTest shows the Pod Identity steps: association, the local trust evaluation for both
// actions, EKS Auth's answer and the session tags. Credentials and the token are never shown.
func printPodIdentityTest(w io.Writer, r *inspect.TestResult) {
	pi := r.PodIdentity
	fmt.Fprintf(w, "mechanism: EKS Pod Identity (association %s takes precedence over any IRSA annotation)\n", safetext.String(pi.AssociationID))
	if pi.TargetRoleARN != "" {
		fmt.Fprintf(w, "target role: %s\n", safetext.String(pi.TargetRoleARN))
	}
	if r.Token != nil {
		if pi.BoundPod != "" {
			fmt.Fprintf(w, "token bound to pod %s, as the projected token is\n", safetext.String(pi.BoundPod))
		} else {
			fmt.Fprintln(w, "token not bound to a pod: none of the ServiceAccount's pods is running")
		}
	}
	if ev := pi.Trust; ev != nil {
		fmt.Fprintf(w, "trust policy, evaluated locally for %s:\n", trust.ServicePodIdentity)
		fmt.Fprintf(w, "    %s %s\n", mark(ev.AssumeRole.Verdict == trust.Admits), trust.ActionAssumeRole)
		fmt.Fprintf(w, "    %s %s\n", mark(ev.TagSession.Verdict == trust.Admits), trust.ActionTagSession)
		if len(ev.UnknownKeys) > 0 {
			fmt.Fprintf(w, "    conditions on keys not known before the call: %s\n", safetext.String(strings.Join(ev.UnknownKeys, ", ")))
		}
	}
	if pi.EKSAuth != "" {
		fmt.Fprintf(w, "eks-auth:AssumeRoleForPodIdentity: %s\n", safetext.String(pi.EKSAuth))
	}
	if len(pi.SessionTags) > 0 {
		fmt.Fprintln(w, "session tags EKS Pod Identity sets on the role session:")
		for _, k := range slices.Sorted(maps.Keys(pi.SessionTags)) {
			fmt.Fprintf(w, "    %s=%s\n", k, safetext.String(pi.SessionTags[k]))
		}
	}
}
