package fakeaws

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/eksauth"
)

// AssumeRoleForPodIdentity is EKS Auth: the token's ServiceAccount (its claims, not verified) must have an
// association whose role exists; the role's trust is not evaluated (as moto's STS evaluates none). Fail it
// with Fail("AssumeRoleForPodIdentity", ...).
func (f *EKS) AssumeRoleForPodIdentity(_ context.Context, clusterName, token string) (*eksauth.Output, error) {
	if err := f.aws.call("AssumeRoleForPodIdentity"); err != nil {
		return nil, err
	}
	parts := strings.Split(token, ".")
	var claims struct {
		Sub string `json:"sub"`
	}
	if len(parts) != 3 {
		return nil, &eksauth.Error{StatusCode: 400, Code: eksauth.InvalidParameter, Message: "token is not a JWT"}
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &claims) != nil {
		return nil, &eksauth.Error{StatusCode: 400, Code: eksauth.InvalidToken, Message: "unreadable claims"}
	}
	for _, a := range f.Associations {
		if "system:serviceaccount:"+aws.ToString(a.Namespace)+":"+aws.ToString(a.ServiceAccount) != claims.Sub {
			continue
		}
		roleARN := aws.ToString(a.RoleArn)
		name := roleARN[strings.LastIndex(roleARN, "/")+1:]
		if _, err := f.aws.IAM.get(name); err != nil {
			return nil, &eksauth.Error{StatusCode: 403, Code: eksauth.AccessDenied, Message: "role " + roleARN + " cannot be assumed"}
		}
		assumedAccount := Account
		if target := aws.ToString(a.TargetRoleArn); target != "" {
			// Role chaining: the credentials are the target role's (its existence is not checked here).
			name = target[strings.LastIndex(target, "/")+1:]
			if parts := strings.Split(target, ":"); len(parts) == 6 {
				assumedAccount = parts[4]
			}
		}
		f.aws.STS.assumed = "arn:aws:sts::" + assumedAccount + ":assumed-role/" + name + "/eks-" + clusterName + "-" + aws.ToString(a.ServiceAccount)
		return &eksauth.Output{Namespace: aws.ToString(a.Namespace), ServiceAccount: aws.ToString(a.ServiceAccount), Audience: "pods.eks.amazonaws.com",
			AssociationID: aws.ToString(a.AssociationId), AssumedRoleARN: f.aws.STS.assumed,
			Credentials: aws.Credentials{AccessKeyID: "ASIAFAKEPODIDENTITY", SecretAccessKey: "pod-identity-secret", SessionToken: "pod-identity-session-token", CanExpire: true, Expires: time.Now().Add(time.Hour)}}, nil
	}
	return nil, &eksauth.Error{StatusCode: 404, Code: eksauth.ResourceNotFound, Message: "no Pod Identity association for " + claims.Sub}
}
