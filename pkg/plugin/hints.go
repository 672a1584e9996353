package plugin

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// flagHints name the flags that fix a library error: the library packages never name a flag, so these hints
// live here, next to the flags.
// A hint naming a flag (flag) is given only for a command that has it; otherwise is given instead. A command
// that reads IdentitySet files (-f) places its resources with the files' fields, not with flags: it is given
// inFile when there is one.
var flagHints = []struct {
	err             error
	hint            string
	flag, otherwise string
	inFile          string
}{
	{setup.ErrServiceAccountMissing, "create it, or pass --create-service-account", "create-service-account", "create it first (kubectl create serviceaccount), or check -n",
		"create it first (kubectl create serviceaccount), or fix the set's serviceAccounts"},
	{setup.ErrNamespaceMissing, "or pick another with -n", "", "", "or fix the set's serviceAccounts"},
	{setup.ErrAnnotatedElsewhere, "pass --overwrite to replace it (link moves its trust subject and statement off the old role)", "", "", ""},
	{setup.ErrRoleMissing, "--role-arn links an existing role; use --role-name to create one", "", "", "check the role's arn in the file"},
	{setup.ErrTargetRoleMissing, "create the target role first, or check the ARN given to --target-role-arn", "", "", "create the target role first, or check podIdentity.targetRoleArn in the file"},
	{setup.ErrNoProvider, "run `kubectl irsa provider create`, or drop --no-create-provider", "", "", ""},
	{setup.ErrManagedPolicyMissing, "check the ARN given to --attach-policy-arn", "", "", "check the role's managedPolicies in the file"},
	{setup.ErrRoleNotManaged, "drop --delete-role", "", "", ""},
	{setup.ErrRoleInUse, "drop --delete-role", "", "", ""},
	{setup.ErrNoCluster, "pass --eks-cluster NAME (and --region)", "", "", ""},
	{setup.ErrAssociatedElsewhere, "pass --overwrite to point it at this role", "", "", ""},
	{setup.ErrPolicyTooLarge, "or attach a managed policy with --attach-policy-arn instead of --allow/--policy-file", "", "",
		"or move statements to a managed policy listed in the role's managedPolicies"},
	{setup.ErrTrustTooLarge, "--trust-size-limit N checks against another size, such as a quota increase IAM does not report yet", "trust-size-limit", "raise the account's IAM role trust policy quota (Service Quotas), or split the ServiceAccounts over more roles", ""},
	{setup.ErrLastSubject, "pass --delete-role to delete the role with the link (only a role kubectl irsa created), or link another ServiceAccount first", "", "", ""},
	{ErrKubeconfig, "set KUBECONFIG or pass --kubeconfig and --context (aws eks update-kubeconfig --name CLUSTER writes one)", "", "", ""},
	{cluster.ErrIssuerNotFound, "check the kubeconfig context, or pass --eks-cluster and --region", "", "", ""},
	{awsapi.ErrUnreachable, "check AWS_PROFILE/--aws-profile, `aws sso login`, or AWS_ENDPOINT_URL", "", "", ""},
	{inspect.ErrNotFound, "-n picks the namespace", "", "", ""},
	{inspect.ErrNamespaceNotFound, "-n picks the namespace, -A every namespace", "", "", ""},
	{inspect.ErrJobTimeout, "raise --timeout", "", "", ""},
}

// withFlagHint appends the hint of the first known error err wraps (none when a command hinted it already); ran
// is the command that ran (nil: unknown), whose flags the hint may name.
func withFlagHint(err error, ran *cobra.Command) error {
	var done *hinted
	if errors.As(err, &done) {
		return err
	}
	for _, h := range flagHints {
		if !errors.Is(err, h.err) {
			continue
		}
		if h.inFile != "" && ran != nil && ran.Flags().Lookup(filenameFlag) != nil {
			return &hinted{err: err, hint: h.inFile}
		}
		if h.flag != "" && (ran == nil || ran.Flags().Lookup(h.flag) == nil) {
			return &hinted{err: err, hint: h.otherwise}
		}
		return &hinted{err: err, hint: h.hint}
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

// lastSubjectHint names the command that removes a role's last subject: unlink with --delete-role when kubectl
// irsa created the role; otherwise, as kubectl irsa never deletes a role it did not create, the role is deleted
// in IAM first and unlink then removes the annotation.
func lastSubjectHint(err error, namespace, name string) error {
	var last *setup.LastSubjectError
	if !errors.As(err, &last) {
		return err
	}
	if last.Managed {
		return &hinted{err: err, hint: fmt.Sprintf("to delete the role with the link run: kubectl irsa unlink %s -n %s --delete-role", name, namespace)}
	}
	return &hinted{err: err, hint: fmt.Sprintf("kubectl irsa did not create role %s, so it does not delete it: link another ServiceAccount to it first, or delete the role in IAM (aws iam delete-role --role-name %s, after removing its policies) and then run: kubectl irsa unlink %s -n %s", last.Role, last.Role, name, namespace)}
}

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
