package state

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
)

// AgentName is the EKS Pod Identity Agent's add-on name and the name of its DaemonSet in kube-system.
const AgentName = "eks-pod-identity-agent"

// AddonAPI is EKS DescribeAddon, which finds the agent's add-on; *eks.Client implements it.
type AddonAPI interface {
	DescribeAddon(ctx context.Context, in *eks.DescribeAddonInput, optFns ...func(*eks.Options)) (*eks.DescribeAddonOutput, error)
}

// Agent is whether the EKS Pod Identity Agent is installed, and what could not be read on the way.
type Agent struct {
	Presence Presence
	// Unchecked says in full what could not be read ("could not check ..."); Notes what the endpoint does not serve.
	Unchecked, Notes []string
}

// ReadAgent tells whether the EKS Pod Identity Agent is installed: its DaemonSet in kube-system (no AWS call), else
// its EKS add-on (addons may be nil, or cluster ""). The add-on runs as that DaemonSet, so when the DaemonSet is
// known to be absent and the add-on cannot be read, nothing serves the agent's address: Missing.
func ReadAgent(ctx context.Context, kube kubernetes.Interface, addons AddonAPI, cluster string) Agent {
	var a Agent
	_, err := kube.AppsV1().DaemonSets("kube-system").Get(ctx, AgentName, metav1.GetOptions{})
	if err == nil {
		return Agent{Presence: Found}
	}
	dsAbsent := apierrors.IsNotFound(err)
	if !dsAbsent {
		a.Unchecked = append(a.Unchecked, fmt.Sprintf("could not check the %s DaemonSet in kube-system: %v", AgentName, err))
	}
	if addons != nil && cluster != "" {
		_, err := addons.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(cluster), AddonName: aws.String(AgentName)}, func(o *eks.Options) { o.RetryMaxAttempts = 1 })
		switch {
		case err == nil:
			return Agent{Presence: Found}
		case awsapi.IsNotFound(err):
			a.Presence = Missing
			return a
		case awsapi.IsUnavailable(err):
			a.Notes = append(a.Notes, "the "+AgentName+" add-on not checked: "+awsapi.Short(err).Error())
		default:
			a.Unchecked = append(a.Unchecked, fmt.Sprintf("could not check the %s add-on (eks:DescribeAddon): %v", AgentName, awsapi.Short(err)))
		}
	}
	if dsAbsent {
		a.Presence = Missing
	}
	return a
}
