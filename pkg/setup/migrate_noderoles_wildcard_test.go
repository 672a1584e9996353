package setup

import (
	"context"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
)

// TestNodeRoleDenyTrailingWildcard (found by review): IAM lets a * that ends an ARN pattern's segment match across colons,
// so a Deny on "arn:aws:eks:*" covers the cluster: the node role may not call eks-auth:AssumeRoleForPodIdentity
// and migrate must block, not pass.
func TestNodeRoleDenyTrailingWildcard(t *testing.T) {
	p, _, cloud := nodeRoleFixture(t)
	cloud.EKS.AuthenticationMode = "API"
	p.clusterARN = "arn:aws:eks:us-east-1:" + fakeaws.Account + ":cluster/prod"
	cloud.IAM.PutInline("entry-node", "agent", `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"*","Resource":"*"},
	 {"Effect":"Deny","Action":"eks-auth:*","Resource":"arn:aws:eks:*"}]}`)
	reasons, unchecked := p.nodeRoleChecks(context.Background())
	for _, r := range reasons {
		if strings.Contains(r, "node role entry-node ") {
			return
		}
	}
	t.Errorf("entry-node not blocked: reasons %v, could-not-check %v", reasons, unchecked)
}
