package setup

import (
	"errors"
	"fmt"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// ErrLastSubject: unlinking would leave the role's trust without a statement, which IAM rejects; the role must
// be deleted with the link instead, or kept linked.
var ErrLastSubject = errors.New("the ServiceAccount is the role's only trusted principal")

// LastSubjectError is ErrLastSubject for one role: Managed says whether kubectl irsa created it (and so may
// delete it with the link).
type LastSubjectError struct {
	Role, Subject string
	Managed       bool
}

func (e *LastSubjectError) Error() string {
	return fmt.Sprintf("role %s trusts only %s: removing it would leave a trust policy without statements, which IAM rejects (nothing was written)", e.Role, e.Subject)
}

func (e *LastSubjectError) Unwrap() error { return ErrLastSubject }

// refuseEmptyTrust refuses, before any write, an unlink that would leave the trust without statements (IAM
// rejects "Statement":[]) unless the role is being deleted.
func refuseEmptyTrust(roleName, subject string, newTrust *trust.Document, removeSubject, deleteRole, managed bool) error {
	if !removeSubject || deleteRole || newTrust == nil || len(newTrust.Statements) > 0 {
		return nil
	}
	return &LastSubjectError{Role: roleName, Subject: subject, Managed: managed}
}
