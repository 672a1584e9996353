package setup

import (
	"errors"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// ErrLastSubject: unlinking would leave the role's trust without a statement, which IAM rejects; the role must
// be deleted with the link instead, or kept linked.
var ErrLastSubject = errors.New("the ServiceAccount is the role's only trusted principal")

// refuseEmptyTrust refuses, before any write, an unlink that would leave the trust without statements (IAM
// rejects "Statement":[]) unless the role is being deleted.
func refuseEmptyTrust(roleName, subject string, newTrust *trust.Document, removeSubject, deleteRole bool) error {
	if !removeSubject || deleteRole || newTrust == nil || len(newTrust.Statements) > 0 {
		return nil
	}
	return errorf(ErrLastSubject, "role %s trusts only %s: removing it would leave a trust policy without statements, which IAM rejects", roleName, subject)
}
