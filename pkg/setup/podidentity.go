package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// EKSAPI is the part of EKS the Pod Identity write side calls; *eks.Client implements it.
type EKSAPI interface {
	state.AssociationAPI
	// ClusterListAPI finds the account's other clusters, whose associations may use a role too.
	state.ClusterListAPI
	state.AddonAPI
	CreatePodIdentityAssociation(ctx context.Context, in *eks.CreatePodIdentityAssociationInput, optFns ...func(*eks.Options)) (*eks.CreatePodIdentityAssociationOutput, error)
	UpdatePodIdentityAssociation(ctx context.Context, in *eks.UpdatePodIdentityAssociationInput, optFns ...func(*eks.Options)) (*eks.UpdatePodIdentityAssociationOutput, error)
	DeletePodIdentityAssociation(ctx context.Context, in *eks.DeletePodIdentityAssociationInput, optFns ...func(*eks.Options)) (*eks.DeletePodIdentityAssociationOutput, error)
}

// AgentName is the name of the EKS Pod Identity Agent add-on and of its DaemonSet in kube-system.
const AgentName = state.AgentName

// ErrNoCluster: the EKS cluster name is not known (Pod Identity associations are per cluster).
var ErrNoCluster = errors.New("EKS cluster name unknown")

// ErrAssociatedElsewhere: the ServiceAccount's association points at another role and overwriting was not asked.
var ErrAssociatedElsewhere = errors.New("serviceaccount has a Pod Identity association with another role")

// PodIdentity is the Pod Identity write side: the Setup clients plus EKS and the cluster's name.
type PodIdentity struct {
	*Setup
	EKS     EKSAPI
	Cluster string
}

func (p *PodIdentity) checkCluster() error {
	if p.Cluster == "" {
		return errorf(ErrNoCluster, "the EKS cluster name is unknown: Pod Identity associations belong to a cluster")
	}
	if p.EKS == nil {
		return errors.New("no EKS client configured")
	}
	return nil
}

// FindAssociation returns the Pod Identity association of a ServiceAccount (nil when none), described.
func (p *PodIdentity) FindAssociation(ctx context.Context, namespace, name string) (*ekstypes.PodIdentityAssociation, error) {
	return state.FindAssociation(ctx, p.EKS, p.Cluster, namespace, name)
}

// OtherAssociations returns the ids of the cluster's associations (any namespace) other than except that use
// roleARN.
func (p *PodIdentity) OtherAssociations(ctx context.Context, roleARN, except string) ([]string, error) {
	return state.AssociationsOfRole(ctx, p.EKS, p.Cluster, roleARN, except)
}

// RoleUsers returns the Pod Identity associations that use roleARN: this cluster's other than except, and those
// of the account's other EKS clusters of the region as CLUSTER/ID (a role retargeted to a new cluster, or shared
// by clusters). What deletes a role or its Pod Identity statement asks this: a read that failed (eks:ListClusters
// denied, say) is an error, and the caller keeps what it would have removed. It stops at the first cluster with
// users (every association of a cluster is described: the list does not name roles).
func (p *PodIdentity) RoleUsers(ctx context.Context, roleARN, except string) ([]string, error) {
	users, err := p.OtherAssociations(ctx, roleARN, except)
	if err != nil || len(users) > 0 {
		return users, err
	}
	clusters, err := state.ClusterNames(ctx, p.EKS)
	if err != nil {
		return nil, fmt.Errorf("could not check the account's other EKS clusters (eks:ListClusters: %w)", awsapi.Short(err))
	}
	for _, cluster := range clusters {
		if cluster == p.Cluster {
			continue
		}
		ids, err := state.AssociationsOfRole(ctx, p.EKS, cluster, roleARN, "")
		if err != nil {
			return nil, fmt.Errorf("could not check the Pod Identity associations of cluster %s: %w", cluster, err)
		}
		for _, id := range ids {
			users = append(users, cluster+"/"+id)
		}
		if len(users) > 0 {
			return users, nil
		}
	}
	return users, nil
}

// AgentInstalled tells whether the EKS Pod Identity Agent runs (state.ReadAgent); when it is not known to, the
// reason says whether it is missing or could not be checked.
func (p *PodIdentity) AgentInstalled(ctx context.Context) (bool, string) {
	agent := state.ReadAgent(ctx, p.Kube, p.EKS, p.Cluster)
	switch agent.Presence {
	case state.Found:
		return true, ""
	case state.Missing:
		return false, fmt.Sprintf("the EKS Pod Identity Agent is not installed: aws eks create-addon --cluster-name %s --addon-name %s", p.Cluster, AgentName)
	}
	return false, "cannot tell whether the EKS Pod Identity Agent is installed (" + strings.Join(append(agent.Unchecked, agent.Notes...), "; ") + ")"
}

// podIdentityTrustStep is the step that makes the role's trust admit EKS Pod Identity: our statement merged
// into the trust read under the lock (the executor holds it), read back and re-merged like every trust write.
// It always runs (a concurrent unlink may have removed the statement since the plan) and is unchanged when the
// statement is there. The undo removes our statement again unless another association of the cluster uses the
// role (except: this run's association id, known once created).
func (p *PodIdentity) podIdentityTrustStep(w *docWriter, roleARN, roleName string, action api.Action, except func() string) *steps.Step {
	return &steps.Step{
		Action: action,
		Do: func(ctx context.Context) error {
			added, err := p.addPodIdentityInQuota(ctx, w, roleARN, roleName)
			if err != nil {
				return explainTrustError(roleName, err)
			}
			if len(added) == 0 {
				return steps.ErrUnchanged
			}
			return nil
		},
		Undo: func(ctx context.Context) error {
			return p.removePodIdentityUnlessUsed(ctx, w, roleARN, roleName, except())
		},
		UndoWhat: "remove the Pod Identity statement from role " + roleName,
	}
}

// addPodIdentityInQuota merges our Pod Identity statement into the role's trust, the merged document checked by
// CheckTrustInQuota (IAM's default first, the account's applied quota only when the default refuses) under the
// lock, as every planner's: a raised quota is honoured, and over quota the *TrustTooLargeError names the options
// and nothing is written.
func (p *PodIdentity) addPodIdentityInQuota(ctx context.Context, w *docWriter, roleARN, roleName string) ([]string, error) {
	account := ""
	if r, err := iamref.ParseRole(roleARN); err == nil {
		account = r.Account
	}
	add := addPodIdentityMutation(trust.PodIdentityRequest{}, 0)
	added, err := w.updateTrust(ctx, roleName, func(d *trust.Document) ([]string, error) {
		added, err := add(d)
		if err != nil || len(added) == 0 {
			return added, err
		}
		if _, err := p.CheckTrustInQuota(ctx, account, 0, roleName, d); err != nil {
			return nil, err
		}
		return added, nil
	})
	if tl := (*TrustTooLargeError)(nil); errors.As(err, &tl) {
		return nil, tl // it names the role already
	}
	return added, err
}

// removePodIdentityUnlessUsed removes our Pod Identity statement from the role's current trust, unless another
// association (other than except) of this or another cluster of the account uses the role, or that cannot be
// checked: the statement is then kept (steps.Kept). It must run under the role's lock, so no association of
// this cluster can be created on the role meanwhile.
func (p *PodIdentity) removePodIdentityUnlessUsed(ctx context.Context, w *docWriter, roleARN, roleName, except string) error {
	others, err := p.RoleUsers(ctx, roleARN, except)
	if err != nil {
		return Kept(fmt.Sprintf("the Pod Identity statement of role %s: %v", roleName, err))
	}
	if len(others) > 0 {
		return Kept(fmt.Sprintf("the Pod Identity statement of role %s: association(s) %s use the role", roleName, strings.Join(others, ", ")))
	}
	_, err = w.updateTrust(ctx, roleName, removePodIdentityMutation)
	if errors.Is(err, trust.ErrEmptyPolicy) {
		return Kept(fmt.Sprintf("the Pod Identity statement of role %s: it is the trust's only statement (IAM refuses an empty trust)", roleName))
	}
	return err
}

// createAssociation creates the association and returns its id.
func (p *PodIdentity) createAssociation(ctx context.Context, namespace, name, roleARN, targetRoleARN string, disableTags bool) (string, error) {
	in := &eks.CreatePodIdentityAssociationInput{ClusterName: aws.String(p.Cluster), Namespace: aws.String(namespace),
		ServiceAccount: aws.String(name), RoleArn: aws.String(roleARN), Tags: map[string]string{ManagedByTagKey: ManagedByTagValue}}
	if targetRoleARN != "" {
		in.TargetRoleArn = aws.String(targetRoleARN)
	}
	if disableTags {
		in.DisableSessionTags = aws.Bool(true)
	}
	out, err := p.EKS.CreatePodIdentityAssociation(ctx, in)
	if err != nil {
		return "", fmt.Errorf("eks:CreatePodIdentityAssociation %s/%s: %w", namespace, name, awsapi.Short(err))
	}
	return aws.ToString(out.Association.AssociationId), nil
}

func (p *PodIdentity) deleteAssociation(ctx context.Context, id string) error {
	_, err := p.EKS.DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{ClusterName: aws.String(p.Cluster), AssociationId: aws.String(id)})
	if err != nil && !awsapi.IsNotFound(err) {
		return fmt.Errorf("eks:DeletePodIdentityAssociation %s: %w", id, awsapi.Short(err))
	}
	return nil
}
