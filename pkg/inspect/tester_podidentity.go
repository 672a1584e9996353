package inspect

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/eksauth"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// PodIdentityAudience is the audience of the token the EKS Pod Identity webhook projects.
const PodIdentityAudience = "pods.eks.amazonaws.com"

// VerdictNotProven: the local checks (association, role, trust) pass, but EKS Auth could not be called, so
// the exchange was not proven end to end.
const VerdictNotProven = "not-proven"

// EKSAuthAPI is EKS Auth AssumeRoleForPodIdentity; *eksauth.Client implements it.
type EKSAuthAPI interface {
	AssumeRoleForPodIdentity(ctx context.Context, clusterName, token string) (*eksauth.Output, error)
}

// PodIdentityTest is what the Pod Identity path of `kubectl irsa test` saw.
type PodIdentityTest struct {
	AssociationID string `json:"associationId"`
	TargetRoleARN string `json:"targetRoleArn,omitempty"`
	// BoundPod is the running pod the token was bound to ("" when none was running).
	BoundPod string `json:"boundPod,omitempty"`
	// Trust is the local evaluation of the role's trust for pods.eks.amazonaws.com.
	Trust *trust.PodIdentityEvaluation `json:"trust,omitempty"`
	// EKSAuth is what eks-auth:AssumeRoleForPodIdentity answered: "ok" or its error.
	EKSAuth string `json:"eksAuth,omitempty"`
	// SessionTags are the session tags EKS Pod Identity sets on the role session (none when disabled).
	SessionTags map[string]string `json:"sessionTags,omitempty"`
}

// associationOf returns the ServiceAccount's EKS Pod Identity association, if the EKS API answered.
func (t *Tester) associationOf(ctx context.Context, in *Inspector, namespace, name string) (association, bool) {
	list, _ := in.associationsIn(ctx, namespace)
	for _, a := range list {
		if a.serviceAccount == name && a.described {
			return a, true
		}
	}
	return association{}, false
}

// testPodIdentity proves the Pod Identity path as the agent would run it: a token of audience
// pods.eks.amazonaws.com (bound to a running pod when there is one), eks-auth:AssumeRoleForPodIdentity, and
// GetCallerIdentity with the credentials. The token and credentials are never printed.
func (t *Tester) testPodIdentity(ctx context.Context, in *Inspector, res *TestResult, sa *corev1.ServiceAccount, a association) (*TestResult, error) {
	namespace, name := sa.Namespace, sa.Name
	res.Mechanism, res.RoleARN = "pod-identity", a.roleARN
	res.ServiceAccount.Audience = PodIdentityAudience
	pi := &PodIdentityTest{AssociationID: a.id, TargetRoleARN: a.targetRoleARN}
	res.PodIdentity = pi
	c := doctor.Cluster{Issuer: t.Issuer, Associations: map[string]doctor.Association{namespace + "/" + name: {ID: a.id, RoleARN: a.roleARN, TargetRoleARN: a.targetRoleARN, DisableSessionTags: a.disableSessionTags}}}
	role, err := iamref.ParseRole(strings.TrimSpace(a.roleARN))
	if err != nil {
		res.Reason = fmt.Sprintf("association %s names %q, which is not a role ARN", a.id, a.roleARN)
		return res, nil
	}
	st := in.role(ctx, role, false, nil)
	if u := in.Unchecked(); len(u) > 0 {
		return nil, fmt.Errorf("%s (kubectl irsa test needs iam:GetRole)", strings.Join(u, "; "))
	}
	subject := doctor.Subject{SA: doctor.ServiceAccount{Namespace: namespace, Name: name, Exists: true, Annotations: sa.Annotations}, PodIdentityRole: st.role}
	// The target role (role chaining, often in another account) is read with that account's credentials; one
	// that cannot be read is "could not check", never missing.
	var targetUnchecked []string
	if a.targetRoleARN != "" && st.role.Found {
		target, err := iamref.ParseRole(strings.TrimSpace(a.targetRoleARN))
		if err != nil {
			res.Reason = fmt.Sprintf("association %s names target role %q, which is not a role ARN", a.id, a.targetRoleARN)
			return res, nil
		}
		if tst := in.role(ctx, target, false, nil); tst.unreadable {
			targetUnchecked = in.Unchecked()
		} else {
			subject.PodIdentityTargetRole = tst.role
		}
	}
	res.Findings = iamFindings(in.diagnose(c, subject))
	if !st.role.Found {
		res.Reason = "the association's role does not exist: " + firstSummary(res.Findings)
		return res, nil
	}
	if t := subject.PodIdentityTargetRole; t != nil && !t.Found {
		res.Reason = "the association's target role does not exist: " + firstSummary(res.Findings)
		return res, nil
	}
	res.CouldNotCheck = append(res.CouldNotCheck, targetUnchecked...)
	ev := st.role.Trust.EvaluatePodIdentity(trust.PodIdentityRequest{Context: trust.PodIdentitySessionTags(clusterARN(t.Cluster), t.Cluster.Name, namespace, name)})
	pi.Trust = &ev

	token, bound, err := t.podIdentityToken(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	pi.BoundPod = bound
	claims, err := cluster.TokenClaims(token)
	if err != nil {
		return nil, err
	}
	res.Token = &TokenInfo{Issuer: claims.Issuer, Subject: claims.Subject, Audience: claims.Audience}
	out, err := t.EKSAuth.AssumeRoleForPodIdentity(ctx, t.Cluster.Name, token)
	token = ""
	if err != nil {
		pi.EKSAuth = awsapi.Short(err).Error()
		switch {
		case ev.Verdict == trust.Refuses:
			res.Reason = "the role's trust does not let " + trust.ServicePodIdentity + " call " + strings.Join(ev.Missing, " and ") + ", and EKS Auth refused: " + pi.EKSAuth
		case eksauth.IsCode(err, eksauth.AccessDenied):
			res.Verdict = VerdictNotProven
			res.Reason = "these AWS credentials may not call eks-auth:AssumeRoleForPodIdentity (" + pi.EKSAuth + "); the association, the role and its trust pass the local checks, but the exchange was not proven end to end (give the caller eks-auth:AssumeRoleForPodIdentity, as the node role has, to prove it)"
		case eksauth.IsCode(err, eksauth.ResourceNotFound):
			res.Reason = "EKS Auth found no association for the token's ServiceAccount: " + pi.EKSAuth
		default:
			res.Reason = "EKS Auth refused the token: " + pi.EKSAuth
		}
		return res, nil
	}
	pi.EKSAuth = "ok"
	if !a.disableSessionTags {
		pi.SessionTags = sessionTags(t.Cluster, namespace, name, bound, t.boundUID)
	}
	creds := out.Credentials
	res.credentials = &creds
	if !creds.Expires.IsZero() {
		exp := metav1.NewTime(creds.Expires)
		res.Expiration = &exp
	}
	id, err := t.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	})
	if err != nil {
		res.credentials = nil
		res.Reason = "the temporary credentials do not work: " + awsapi.Short(err).Error()
		return res, nil
	}
	res.AssumedRoleARN = aws.ToString(id.Arn)
	want := role.Name
	if r, err := iamref.ParseRole(a.targetRoleARN); err == nil {
		want = r.Name
	}
	if !strings.Contains(res.AssumedRoleARN, ":assumed-role/"+want+"/") {
		res.credentials = nil
		res.Reason = fmt.Sprintf("EKS Auth returned credentials of %s, not of role %s", res.AssumedRoleARN, want)
		return res, nil
	}
	if ev.Verdict == trust.Refuses {
		res.credentials = nil
		res.Reason = "the role's trust does not let " + trust.ServicePodIdentity + " call " + strings.Join(ev.Missing, " and ") + " (the endpoint accepted it anyway; real EKS Auth refuses)"
		return res, nil
	}
	if len(targetUnchecked) > 0 {
		// EKS Auth returned credentials of the target role: it exists, whatever could not be read of it.
		res.CouldNotCheck = slices.DeleteFunc(res.CouldNotCheck, func(n string) bool { return slices.Contains(targetUnchecked, n) })
		res.Notes = append(res.Notes, "target role "+a.targetRoleARN+" was not read ("+strings.Join(targetUnchecked, "; ")+"); EKS Auth returned its credentials, so it exists")
	}
	res.Verdict = VerdictPass
	return res, nil
}

// podIdentityToken requests a token of audience pods.eks.amazonaws.com, bound to a running pod of the
// ServiceAccount when there is one (as the projected token is); it returns the token and the pod's name.
func (t *Tester) podIdentityToken(ctx context.Context, namespace, name string) (string, string, error) {
	expiry := int64(600)
	spec := authenticationv1.TokenRequestSpec{Audiences: []string{PodIdentityAudience}, ExpirationSeconds: &expiry}
	pods, err := t.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{FieldSelector: fields.AndSelectors(
		fields.OneTermEqualSelector("spec.serviceAccountName", name), fields.OneTermEqualSelector("status.phase", string(corev1.PodRunning))).String(), Limit: 50})
	var bound string
	if err == nil {
		i := slices.IndexFunc(pods.Items, func(p corev1.Pod) bool {
			return p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && cluster.PodServiceAccount(&p.Spec) == name
		})
		if i >= 0 {
			p := pods.Items[i]
			spec.BoundObjectRef = &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: p.Name, UID: p.UID}
			bound, t.boundUID = p.Name, string(p.UID)
		}
	}
	tr, err := t.Kube.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		return "", "", fmt.Errorf("TokenRequest for %s/%s: %w (kubectl irsa test needs create on serviceaccounts/token)", namespace, name, err)
	}
	return tr.Status.Token, bound, nil
}

// sessionTags are the tags EKS Pod Identity sets on the role session (EKS user guide); the pod tags only
// when the token was bound to a pod.
func sessionTags(ref cluster.Ref, namespace, name, pod, uid string) map[string]string {
	tags := map[string]string{"eks-cluster-name": ref.Name, "kubernetes-namespace": namespace, "kubernetes-service-account": name}
	if arn := clusterARN(ref); arn != "" {
		tags["eks-cluster-arn"] = arn
	}
	if pod != "" {
		tags["kubernetes-pod-name"], tags["kubernetes-pod-uid"] = pod, uid
	}
	return tags
}

// clusterARN is the EKS cluster's ARN when the ref knows its account and region.
func clusterARN(ref cluster.Ref) string {
	if ref.Account == "" || ref.Region == "" || ref.Name == "" {
		return ""
	}
	partition := "aws"
	switch {
	case strings.HasPrefix(ref.Region, "cn-"):
		partition = "aws-cn"
	case strings.HasPrefix(ref.Region, "us-gov-"):
		partition = "aws-us-gov"
	}
	return fmt.Sprintf("arn:%s:eks:%s:%s:cluster/%s", partition, ref.Region, ref.Account, ref.Name)
}
