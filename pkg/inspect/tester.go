package inspect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// WebIdentitySTSAPI is the part of STS the end-to-end test calls: the exchange a pod's SDK makes, then
// GetCallerIdentity with the credentials it returned.
type WebIdentitySTSAPI interface {
	AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error)
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// TestResult is the result of `kubectl irsa test`.
type TestResult struct {
	metav1.TypeMeta `json:",inline"`
	ServiceAccount  api.ServiceAccountRef `json:"serviceAccount"`
	RoleARN         string                `json:"roleArn,omitempty"`
	// Token holds the claims of the token used (never the token itself).
	Token *TokenInfo `json:"token,omitempty"`
	// Trust is the local evaluation of the role's trust policy against the token's claims.
	Trust *trust.Evaluation `json:"trust,omitempty"`
	// STS is what sts:AssumeRoleWithWebIdentity answered: "ok" or its error.
	STS string `json:"sts,omitempty"`
	// Mechanism is the one the pod would use: "irsa", or "pod-identity" when an association exists.
	Mechanism string `json:"mechanism,omitempty"`
	// PodIdentity is what the Pod Identity path saw (mechanism pod-identity).
	PodIdentity    *PodIdentityTest `json:"podIdentity,omitempty"`
	Attempts       int              `json:"attempts,omitempty"`
	AssumedRoleARN string           `json:"assumedRoleArn,omitempty"`
	Expiration     *metav1.Time     `json:"expiration,omitempty"`
	Verdict        string           `json:"verdict"`
	Reason         string           `json:"reason,omitempty"`
	Findings       []doctor.Finding `json:"findings"`
	// Notes say what the verdict rests on when the local evaluation could not decide, or STS is an emulator.
	Notes []string `json:"notes,omitempty"`
	// CouldNotCheck lists the reads that failed (such as a role in an account without credentials): STS was
	// asked all the same, since AssumeRoleWithWebIdentity needs no credentials.
	CouldNotCheck []string `json:"couldNotCheck,omitempty"`
	// credentials are the temporary credentials, for `-- COMMAND`; never serialised.
	credentials *aws.Credentials
	// roleUnread: what the role's own reads could not check (a role in an account without credentials).
	roleUnread []string
}

// TokenInfo are the claims a token presents; the token is never kept.
type TokenInfo struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience []string `json:"aud"`
}

// DeepCopyObject implements runtime.Object.
func (r *TestResult) DeepCopyObject() runtime.Object { return api.DeepCopy(r) }

// roleUnread are the could-not-check lines of the role's own reads, which a pass proven by STS settles.
func (r *TestResult) unreadRoleSettled() {
	r.CouldNotCheck = slices.DeleteFunc(r.CouldNotCheck, func(s string) bool { return slices.Contains(r.roleUnread, s) })
	for _, s := range r.roleUnread {
		r.Notes = append(r.Notes, s+" (STS assumed the role: the verdict is STS's)")
	}
}

// Credentials returns the temporary credentials of a passing test (nil otherwise).
func (r *TestResult) Credentials() *aws.Credentials { return r.credentials }

// Verdicts.
const (
	VerdictPass = "pass"
	VerdictFail = "fail"
)

// Tester proves end to end that a ServiceAccount can assume its role, as the pod's SDK would.
type Tester struct {
	Kube    kubernetes.Interface
	IAM     IAMAPI
	STS     WebIdentitySTSAPI
	Issuer  string
	Cluster cluster.Ref
	// EKS lists Pod Identity associations and EKSAuth exchanges their tokens; with EKS nil only IRSA is tested.
	EKS     EKSAPI
	EKSAuth EKSAuthAPI
	// boundUID is the UID of the pod the Pod Identity token was bound to.
	boundUID string
	// Accounts reads roles of other accounts (see Inspector.Accounts).
	Accounts *state.Router[IAMAPI]
	// STSEndpoint is the STS endpoint URL when it is overridden (AWS_ENDPOINT_URL...): one that is not AWS's
	// proves nothing about the trust, and a note says so.
	STSEndpoint string
	// Progress is called before each retry while IAM propagates (nil: silent).
	Progress func(attempt int, elapsed time.Duration, err error)
}

// Test mints a token for the ServiceAccount with the webhook's audience, evaluates the role's trust policy
// against its claims, exchanges it with STS (retrying until timeout while a new role propagates), and checks
// the credentials with GetCallerIdentity. The token is never printed or kept.
func (t *Tester) Test(ctx context.Context, namespace, name string, timeout time.Duration) (*TestResult, error) {
	res := &TestResult{TypeMeta: api.TypeMeta("TestResult"), Verdict: VerdictFail, Findings: []doctor.Finding{}}
	res.ServiceAccount = api.ServiceAccountRef{Namespace: namespace, Name: name, Subject: trust.Subject(namespace, name)}
	sa, err := t.Kube.CoreV1().ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			if nsErr := (&Inspector{Kube: t.Kube}).requireNamespace(ctx, namespace); nsErr != nil {
				return nil, nsErr
			}
			return nil, fmt.Errorf("serviceaccount %s/%s not found: %w", namespace, name, ErrNotFound)
		}
		return nil, fmt.Errorf("read serviceaccount %s/%s: %w", namespace, name, err)
	}
	in := &Inspector{Kube: t.Kube, IAM: t.IAM, Accounts: t.Accounts, Issuer: t.Issuer, Cluster: t.Cluster}
	lookup := &Inspector{Kube: t.Kube, EKS: t.EKS, Cluster: t.Cluster}
	if a, ok := t.associationOf(ctx, lookup, namespace, name); ok && t.EKSAuth != nil {
		return t.testPodIdentity(ctx, in, res, sa, a)
	}
	res.Mechanism = "irsa"
	res.Notes = lookup.Notes()
	if lookup.associationsFailed {
		// An association would take precedence over the annotation: without the list, neither a pass nor a
		// missing annotation says what the pods get.
		res.CouldNotCheck = lookup.Unchecked()
		if _, annotated := sa.Annotations[iamref.RoleARNAnnotation]; !annotated {
			res.Verdict = VerdictNotProven
			res.Reason = "could not check whether it has an EKS Pod Identity association, and it has no IRSA annotation: " + strings.Join(res.CouldNotCheck, "; ")
			return res, nil
		}
	} else {
		res.Notes = append(res.Notes, lookup.Unchecked()...)
	}
	subject := in.Subject(ctx, sa, namespace, name, nil, nil, nil)
	res.ServiceAccount.Audience = iamref.Audience(sa.Annotations)
	res.RoleARN = strings.TrimSpace(sa.Annotations[iamref.RoleARNAnnotation])
	findings := in.diagnose(doctor.Cluster{Issuer: t.Issuer}, subject)
	res.roleUnread = in.Unchecked()
	res.CouldNotCheck = append(res.CouldNotCheck, res.roleUnread...)
	role, annotated := annotatedRole(sa.Annotations)
	if !annotated || (subject.Role != nil && !subject.Role.Found) {
		res.Findings = findings
		res.Reason = "the ServiceAccount cannot get credentials: " + firstSummary(findings)
		return res, nil
	}

	expiry := int64(600)
	tr, err := t.Kube.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{Audiences: []string{res.ServiceAccount.Audience}, ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("TokenRequest for %s/%s: %w (kubectl irsa test needs create on serviceaccounts/token)", namespace, name, err)
	}
	token := tr.Status.Token
	claims, err := cluster.TokenClaims(token)
	if err != nil {
		return nil, err
	}
	res.Token = &TokenInfo{Issuer: claims.Issuer, Subject: claims.Subject, Audience: claims.Audience}

	// The local evaluation uses the token's own claims, not what we expect them to be. A role that could not
	// be read is not evaluated: STS alone decides.
	res.Findings = iamFindings(findings)
	refuses := false
	if subject.Role != nil && subject.Role.Trust != nil {
		provider := trust.NewProvider(role.Partition, role.Account, claims.Issuer)
		aud := res.ServiceAccount.Audience
		if len(claims.Audience) > 0 {
			aud = claims.Audience[0]
		}
		ev := subject.Role.Trust.Evaluate(trust.Claims{ProviderARN: provider.ARN, HostPath: provider.HostPath, Subject: claims.Subject, Audience: aud})
		res.Trust = &ev
		refuses = ev.Verdict == trust.Refuses
	}

	deadline := time.Now().Add(timeout)
	if refuses {
		deadline = time.Now() // a policy that says no will not say yes by waiting
	}
	start := time.Now()
	var out *sts.AssumeRoleWithWebIdentityOutput
	for {
		res.Attempts++
		out, err = t.STS.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn:          aws.String(res.RoleARN),
			RoleSessionName:  aws.String(fmt.Sprintf("kubectl-irsa-test-%d", time.Now().Unix())),
			WebIdentityToken: aws.String(token),
			DurationSeconds:  aws.Int32(900),
		}, func(o *sts.Options) { o.Credentials = aws.AnonymousCredentials{} })
		if err == nil || !retryable(err) || time.Now().After(deadline) {
			break
		}
		if t.Progress != nil {
			t.Progress(res.Attempts, time.Since(start), err)
		}
		wait := min(time.Duration(res.Attempts)*time.Second, 5*time.Second)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	token = ""
	if err != nil {
		res.STS = awsapi.Short(err).Error()
		var answer smithy.APIError
		if !errors.As(err, &answer) && !refuses {
			// No answer at all (connection refused, timeout): STS did not refuse, nothing was proven.
			res.Verdict, res.Reason = VerdictNotProven, "STS could not be reached, so the trust was not proven: "+res.STS
			return res, nil
		}
		res.Reason = "STS refused the token: " + res.STS
		if refuses {
			res.Reason = "the trust policy does not admit the token, and STS refused it: " + res.STS
		}
		return res, nil
	}
	res.STS = "ok"
	creds := out.Credentials
	res.credentials = &aws.Credentials{AccessKeyID: aws.ToString(creds.AccessKeyId), SecretAccessKey: aws.ToString(creds.SecretAccessKey), SessionToken: aws.ToString(creds.SessionToken)}
	if creds.Expiration != nil {
		exp := metav1.NewTime(*creds.Expiration)
		res.Expiration = &exp
	}
	id, err := t.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(res.credentials.AccessKeyID, res.credentials.SecretAccessKey, res.credentials.SessionToken)
	})
	if err != nil {
		res.credentials = nil
		res.Reason = "the temporary credentials do not work: " + awsapi.Short(err).Error()
		return res, nil
	}
	res.AssumedRoleARN = aws.ToString(id.Arn)
	t.judgeSuccess(res)
	return res, nil
}

// retryable: errors IAM propagation can cause for a role created seconds ago.
func retryable(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "AccessDenied", "InvalidIdentityToken", "IDPCommunicationError":
			return true
		}
	}
	return false
}

func firstSummary(fs []doctor.Finding) string {
	for _, f := range fs {
		if f.Severity == doctor.Error {
			return f.Summary
		}
	}
	return "no role"
}

// iamFindings keeps the findings about the role, its trust and its provider (pod checks do not apply).
func iamFindings(fs []doctor.Finding) []doctor.Finding {
	out := []doctor.Finding{}
	for _, f := range fs {
		if f.Check == "iam" || f.Check == "serviceaccount" {
			out = append(out, f)
		}
	}
	return out
}
