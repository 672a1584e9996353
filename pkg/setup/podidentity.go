package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// EKSAPI is the part of EKS the Pod Identity write side calls; *eks.Client implements it.
type EKSAPI interface {
	CreatePodIdentityAssociation(ctx context.Context, in *eks.CreatePodIdentityAssociationInput, optFns ...func(*eks.Options)) (*eks.CreatePodIdentityAssociationOutput, error)
	ListPodIdentityAssociations(ctx context.Context, in *eks.ListPodIdentityAssociationsInput, optFns ...func(*eks.Options)) (*eks.ListPodIdentityAssociationsOutput, error)
	DescribePodIdentityAssociation(ctx context.Context, in *eks.DescribePodIdentityAssociationInput, optFns ...func(*eks.Options)) (*eks.DescribePodIdentityAssociationOutput, error)
	UpdatePodIdentityAssociation(ctx context.Context, in *eks.UpdatePodIdentityAssociationInput, optFns ...func(*eks.Options)) (*eks.UpdatePodIdentityAssociationOutput, error)
	DeletePodIdentityAssociation(ctx context.Context, in *eks.DeletePodIdentityAssociationInput, optFns ...func(*eks.Options)) (*eks.DeletePodIdentityAssociationOutput, error)
	DescribeAddon(ctx context.Context, in *eks.DescribeAddonInput, optFns ...func(*eks.Options)) (*eks.DescribeAddonOutput, error)
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

// addPodIdentityTrust adds our Pod Identity statement to the role's current trust (read again), pushing on undo
// the removal of that statement from the then-current trust. It reports whether the trust changed.
func (p *PodIdentity) addPodIdentityTrust(ctx context.Context, roleARN, roleName string, undo *Undo) (bool, error) {
	changed, err := p.editTrust(ctx, roleARN, roleName, func(doc *trust.Document) (bool, error) {
		changed, err := doc.AddPodIdentity(trust.PodIdentityRequest{})
		if err != nil || !changed {
			return false, err
		}
		return true, doc.CheckSize(trust.DefaultSizeLimit)
	})
	if err != nil || !changed {
		return false, err
	}
	undo.Push("remove the Pod Identity statement from role "+roleName, func(ctx context.Context) error {
		_, err := p.removePodIdentityTrust(ctx, roleARN, roleName)
		return err
	})
	return true, nil
}

// removePodIdentityTrust removes our Pod Identity statement from the role's current trust, nothing else. It
// reports whether it removed one; ErrEmptyPolicy when it is the last statement (the trust is then left as is).
func (p *PodIdentity) removePodIdentityTrust(ctx context.Context, roleARN, roleName string) (bool, error) {
	return p.editTrust(ctx, roleARN, roleName, func(doc *trust.Document) (bool, error) { return doc.RemovePodIdentity() })
}

// editTrust is every trust change of the Pod Identity write side and of migrate: under the role's lock (the same
// lease as IRSA's writes), the role's current trust read, edited, and written back only when edit reports a
// change.
func (p *PodIdentity) editTrust(ctx context.Context, roleARN, roleName string, edit func(*trust.Document) (bool, error)) (changed bool, err error) {
	if roleARN == "" {
		roleARN = "role/" + roleName
	}
	err = p.withLock(ctx, roleARN, func(ctx context.Context) error {
		doc, err := p.readTrust(ctx, roleName)
		if err != nil {
			return err
		}
		if changed, err = edit(doc); err != nil {
			return fmt.Errorf("role %s: %w", roleName, err)
		}
		if !changed {
			return nil
		}
		return p.writeTrust(ctx, roleName, doc)
	})
	return changed, err
}

func (p *PodIdentity) readTrust(ctx context.Context, roleName string) (*trust.Document, error) {
	out, err := p.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(roleName)})
	if err != nil {
		return nil, fmt.Errorf("iam:GetRole %s: %w", roleName, awsapi.Short(err))
	}
	doc, err := trust.Parse(aws.ToString(out.Role.AssumeRolePolicyDocument))
	if err != nil {
		return nil, fmt.Errorf("role %s: %w", roleName, err)
	}
	return doc, nil
}

func (p *PodIdentity) writeTrust(ctx context.Context, roleName string, doc *trust.Document) error {
	if _, err := p.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(roleName), PolicyDocument: aws.String(doc.String())}); err != nil {
		return fmt.Errorf("iam:UpdateAssumeRolePolicy %s: %w", roleName, awsapi.Short(err))
	}
	return nil
}

// createAssociation creates the association and pushes its deletion on undo; it returns the association's id.
func (p *PodIdentity) createAssociation(ctx context.Context, namespace, name, roleARN, targetRoleARN string, disableTags bool, undo *Undo) (string, error) {
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
	id := aws.ToString(out.Association.AssociationId)
	undo.Push("delete Pod Identity association "+id, func(ctx context.Context) error { return p.deleteAssociation(ctx, id) })
	return id, nil
}

func (p *PodIdentity) deleteAssociation(ctx context.Context, id string) error {
	_, err := p.EKS.DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{ClusterName: aws.String(p.Cluster), AssociationId: aws.String(id)})
	if err != nil && !awsapi.IsNotFound(err) {
		return fmt.Errorf("eks:DeletePodIdentityAssociation %s: %w", id, awsapi.Short(err))
	}
	return nil
}
