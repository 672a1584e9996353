package plugin

import (
	"errors"
	"fmt"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// flagHints name the flags that fix a library error: the library packages never name a flag, so these hints
// live here, next to the flags.
var flagHints = []struct {
	err  error
	hint string
}{
	{setup.ErrServiceAccountMissing, "create it, or pass --create-service-account"},
	{setup.ErrNamespaceMissing, "or pick another with -n"},
	{setup.ErrAnnotatedElsewhere, "pass --overwrite to replace it"},
	{setup.ErrRoleMissing, "--role-arn links an existing role; use --role-name to create one"},
	{setup.ErrTargetRoleMissing, "create the target role first, or check the ARN given to --target-role-arn"},
	{setup.ErrNoProvider, "run `kubectl irsa provider create`, or drop --no-create-provider"},
	{setup.ErrManagedPolicyMissing, "check the ARN given to --attach-policy-arn"},
	{setup.ErrRoleNotManaged, "drop --delete-role"},
	{setup.ErrRoleInUse, "drop --delete-role"},
	{setup.ErrNoCluster, "pass --eks-cluster NAME (and --region)"},
	{setup.ErrAssociatedElsewhere, "pass --overwrite to point it at this role"},
	{setup.ErrPolicyTooLarge, "or attach a managed policy with --attach-policy-arn instead of --allow/--policy-file"},
	{setup.ErrTrustTooLarge, "--trust-size-limit N checks against another size, such as a quota increase IAM does not report yet"},
	{setup.ErrLastSubject, "pass --delete-role to delete the role with the link (only a role kubectl irsa created), or link another ServiceAccount first"},
	{ErrKubeconfig, "set KUBECONFIG or pass --kubeconfig and --context (aws eks update-kubeconfig --name CLUSTER writes one)"},
	{cluster.ErrIssuerNotFound, "check the kubeconfig context, or pass --eks-cluster and --region"},
	{awsapi.ErrUnreachable, "check AWS_PROFILE/--aws-profile, `aws sso login`, or AWS_ENDPOINT_URL"},
	{inspect.ErrNotFound, "-n picks the namespace"},
	{inspect.ErrNamespaceNotFound, "-n picks the namespace, -A every namespace"},
	{inspect.ErrJobTimeout, "raise --timeout"},
}

// withFlagHint appends the hint of the first known error err wraps.
func withFlagHint(err error) error {
	for _, h := range flagHints {
		if errors.Is(err, h.err) {
			return &hinted{err: err, hint: h.hint}
		}
	}
	return err
}

// hinted is an error with a flag hint; it unwraps to the error, so exit codes and kinds are kept.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return fmt.Sprintf("%s; %s", h.err, h.hint) }
func (h *hinted) Unwrap() error { return h.err }

// podIdentityShadowsHint warns that an EKS Pod Identity association of the ServiceAccount takes precedence over
// the IRSA role just linked, and names the command that removes it.
func podIdentityShadowsHint(namespace, name, roleName, associationID, associationRole string) string {
	return fmt.Sprintf("warning: serviceaccount %s/%s has EKS Pod Identity association %s with role %s, which takes precedence over IRSA: its pods will not use role %s until the association is deleted (kubectl irsa unlink %s -n %s --pod-identity)",
		namespace, name, associationID, associationRole, roleName, name, namespace)
}

// podIdentityUncheckedHint says that the ServiceAccount's Pod Identity association could not be looked up.
func podIdentityUncheckedHint(namespace, name string, err error) string {
	return fmt.Sprintf("warning: could not check serviceaccount %s/%s for an EKS Pod Identity association (%v): if it has one, Pod Identity takes precedence and its pods will not use the IRSA role", namespace, name, err)
}

// podIdentityUncheckedUnlinkHint says that unlink could not look up the ServiceAccount's Pod Identity association,
// so its permissions statement was removed even though an association on the same role might use it.
func podIdentityUncheckedUnlinkHint(namespace, name string, err error) string {
	return fmt.Sprintf("warning: could not check serviceaccount %s/%s for an EKS Pod Identity association (%v): if it has one on the same role, it lost the permissions of the removed statement: give them back with kubectl irsa link %s -n %s --pod-identity and the same --allow or --policy-file", namespace, name, err, name, namespace)
}
