package fakeaws

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

// AgentAddon is the EKS add-on of the Pod Identity agent.
const AgentAddon = "eks-pod-identity-agent"

// AddAssociation adds a Pod Identity association, as a test fixture; it returns its id.
func (f *EKS) AddAssociation(cluster, namespace, serviceAccount, roleARN string) string {
	f.aws.mu.Lock()
	defer f.aws.mu.Unlock()
	f.seq++
	id := fmt.Sprintf("a-%016d", f.seq)
	f.Associations = append(f.Associations, ekstypes.PodIdentityAssociation{
		AssociationId:  aws.String(id),
		AssociationArn: aws.String(fmt.Sprintf("arn:aws:eks:us-east-1:%s:podidentityassociation/%s/%s", Account, cluster, id)),
		ClusterName:    aws.String(cluster), Namespace: aws.String(namespace), ServiceAccount: aws.String(serviceAccount),
		RoleArn: aws.String(roleARN), CreatedAt: aws.Time(time.Now()),
	})
	return id
}

// Association returns the association of a ServiceAccount (nil when none).
func (f *EKS) Association(namespace, serviceAccount string) *ekstypes.PodIdentityAssociation {
	for i := range f.Associations {
		a := &f.Associations[i]
		if aws.ToString(a.Namespace) == namespace && aws.ToString(a.ServiceAccount) == serviceAccount {
			return a
		}
	}
	return nil
}

// CreatePodIdentityAssociation implements the EKS API: one association per ServiceAccount, and a role whose
// trust lets pods.eks.amazonaws.com call sts:AssumeRole and sts:TagSession (checked by substring, as a fake).
func (f *EKS) CreatePodIdentityAssociation(_ context.Context, in *eks.CreatePodIdentityAssociationInput, _ ...func(*eks.Options)) (*eks.CreatePodIdentityAssociationOutput, error) {
	if err := f.aws.call("CreatePodIdentityAssociation"); err != nil {
		return nil, err
	}
	if a := f.Association(aws.ToString(in.Namespace), aws.ToString(in.ServiceAccount)); a != nil {
		return nil, &ekstypes.ResourceInUseException{Message: aws.String("Association already exists: " + aws.ToString(a.AssociationId))}
	}
	if err := f.checkRole(aws.ToString(in.RoleArn)); err != nil {
		return nil, err
	}
	f.AddAssociation(aws.ToString(in.ClusterName), aws.ToString(in.Namespace), aws.ToString(in.ServiceAccount), aws.ToString(in.RoleArn))
	a := &f.Associations[len(f.Associations)-1]
	a.TargetRoleArn, a.DisableSessionTags, a.Tags = in.TargetRoleArn, in.DisableSessionTags, in.Tags
	out := *a
	return &eks.CreatePodIdentityAssociationOutput{Association: &out}, nil
}

func (f *EKS) checkRole(roleARN string) error {
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	r := f.aws.IAM.roles[name]
	if r == nil || !strings.Contains(r.trust, "pods.eks.amazonaws.com") || !strings.Contains(r.trust, "sts:TagSession") {
		return &ekstypes.InvalidParameterException{Message: aws.String("Trust policy of the role provided is invalid. Please ensure that the role's trust policy allows EKS Pod Identity to assume the role.")}
	}
	return nil
}

// UpdatePodIdentityAssociation implements the EKS API.
func (f *EKS) UpdatePodIdentityAssociation(_ context.Context, in *eks.UpdatePodIdentityAssociationInput, _ ...func(*eks.Options)) (*eks.UpdatePodIdentityAssociationOutput, error) {
	if err := f.aws.call("UpdatePodIdentityAssociation"); err != nil {
		return nil, err
	}
	for i := range f.Associations {
		a := &f.Associations[i]
		if aws.ToString(a.AssociationId) != aws.ToString(in.AssociationId) {
			continue
		}
		if in.RoleArn != nil {
			if err := f.checkRole(aws.ToString(in.RoleArn)); err != nil {
				return nil, err
			}
			a.RoleArn = in.RoleArn
		}
		if in.TargetRoleArn != nil {
			a.TargetRoleArn = in.TargetRoleArn
		}
		if in.DisableSessionTags != nil {
			a.DisableSessionTags = in.DisableSessionTags
		}
		out := *a
		return &eks.UpdatePodIdentityAssociationOutput{Association: &out}, nil
	}
	return nil, &ekstypes.ResourceNotFoundException{Message: aws.String("no association " + aws.ToString(in.AssociationId))}
}

// DeletePodIdentityAssociation implements the EKS API.
func (f *EKS) DeletePodIdentityAssociation(_ context.Context, in *eks.DeletePodIdentityAssociationInput, _ ...func(*eks.Options)) (*eks.DeletePodIdentityAssociationOutput, error) {
	if err := f.aws.call("DeletePodIdentityAssociation"); err != nil {
		return nil, err
	}
	for i, a := range f.Associations {
		if aws.ToString(a.AssociationId) == aws.ToString(in.AssociationId) {
			f.Associations = slices.Delete(f.Associations, i, i+1)
			return &eks.DeletePodIdentityAssociationOutput{Association: &a}, nil
		}
	}
	return nil, &ekstypes.ResourceNotFoundException{Message: aws.String("no association " + aws.ToString(in.AssociationId))}
}

// DescribeAddon implements the EKS API for the add-ons in Addons.
func (f *EKS) DescribeAddon(_ context.Context, in *eks.DescribeAddonInput, _ ...func(*eks.Options)) (*eks.DescribeAddonOutput, error) {
	if err := f.aws.call("DescribeAddon"); err != nil {
		return nil, err
	}
	if !slices.Contains(f.Addons, aws.ToString(in.AddonName)) {
		return nil, &ekstypes.ResourceNotFoundException{Message: aws.String("No addon: " + aws.ToString(in.AddonName) + " found in cluster: " + aws.ToString(in.ClusterName))}
	}
	return &eks.DescribeAddonOutput{Addon: &ekstypes.Addon{AddonName: in.AddonName, ClusterName: in.ClusterName, Status: ekstypes.AddonStatusActive}}, nil
}

// EKSAuth is an in-memory EKS Auth: AssumeRoleForPodIdentity for any token of a ServiceAccount with an
// association (the token is not verified); GetCallerIdentity with the returned credentials answers the role.
type EKSAuth struct{ aws *AWS }

// EKSAuth returns the account's EKS Auth.
func (a *AWS) EKSAuth() *EKSAuth { return &EKSAuth{aws: a} }

// AssumeRoleForPodIdentity returns the associated role's session for the ServiceAccount named by the token's
// sub claim (the token's signature is not verified) and credentials that GetCallerIdentity answers as that role.
func (f *EKSAuth) AssumeRoleForPodIdentity(_ context.Context, cluster, token string) (aws.Credentials, error) {
	if err := f.aws.call("AssumeRoleForPodIdentity"); err != nil {
		return aws.Credentials{}, err
	}
	var claims struct {
		Sub string   `json:"sub"`
		Aud []string `json:"aud"`
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return aws.Credentials{}, &ekstypes.InvalidParameterException{Message: aws.String("token is not a JWT")}
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(payload, &claims) != nil || !slices.Contains(claims.Aud, "pods.eks.amazonaws.com") {
		return aws.Credentials{}, &ekstypes.InvalidRequestException{Message: aws.String("InvalidTokenException: audience is not pods.eks.amazonaws.com")}
	}
	sub := strings.Split(claims.Sub, ":") // system:serviceaccount:NS:SA
	if len(sub) != 4 {
		return aws.Credentials{}, &ekstypes.InvalidParameterException{Message: aws.String("token subject is not a ServiceAccount")}
	}
	a := f.aws.EKS.Association(sub[2], sub[3])
	if a == nil {
		return aws.Credentials{}, &ekstypes.ResourceNotFoundException{Message: aws.String("no Pod Identity association for " + sub[2] + "/" + sub[3] + " in cluster " + cluster)}
	}
	roleARN := aws.ToString(a.RoleArn)
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	if err := f.aws.EKS.checkRole(roleARN); err != nil {
		return aws.Credentials{}, &ekstypes.AccessDeniedException{Message: aws.String("role " + name + " does not trust pods.eks.amazonaws.com")}
	}
	f.aws.STS.assumed = "arn:aws:sts::" + Account + ":assumed-role/" + name + "/eks-" + cluster
	return aws.Credentials{AccessKeyID: "ASIAFAKE", SecretAccessKey: "secret", SessionToken: "session", Source: "EKSAuth"}, nil
}
