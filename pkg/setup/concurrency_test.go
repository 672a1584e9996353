package setup

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// raceIAM makes the in-memory IAM safe for concurrent runs and models what IAM does to them: after a trust write
// the next `lag` GetRole calls still serve the previous document (eventual consistency), and a writer from
// another cluster (which does not see the lease) may replace the document just written with its own merge of a
// document it read before that write.
type raceIAM struct {
	IAMAPI
	mu      sync.Mutex
	lag     int
	pending int
	prev    string
	// foreign, when set, is called after each trust write with the document before and after it; it returns the
	// document another cluster's writer puts in its place ("" for none).
	foreign func(before, after string) string
	// The same for the inline policy kubectl-irsa: the next policyPending GetRolePolicy calls serve policyPrev
	// ("" : not found), and foreignPolicy returns the document another cluster's writer puts in its place.
	policyPending int
	policyPrev    string
	foreignPolicy func(before, after string) string
}

func (r *raceIAM) trust(ctx context.Context, name string) string {
	out, err := r.IAMAPI.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return ""
	}
	s, _ := url.QueryUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument))
	return s
}

func (r *raceIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out, err := r.IAMAPI.GetRole(ctx, in, o...)
	if err == nil && r.pending > 0 {
		r.pending--
		out.Role.AssumeRolePolicyDocument = aws.String(url.QueryEscape(r.prev))
	}
	return out, err
}

func (r *raceIAM) UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, o ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	before := r.trust(ctx, aws.ToString(in.RoleName))
	out, err := r.IAMAPI.UpdateAssumeRolePolicy(ctx, in, o...)
	if err != nil {
		return out, err
	}
	r.prev, r.pending = before, r.lag
	if r.foreign != nil {
		if doc := r.foreign(before, aws.ToString(in.PolicyDocument)); doc != "" {
			_, _ = r.IAMAPI.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: in.RoleName, PolicyDocument: aws.String(doc)})
		}
	}
	return out, err
}

func (r *raceIAM) locked(f func()) { r.mu.Lock(); defer r.mu.Unlock(); f() }

func (r *raceIAM) CreateRole(ctx context.Context, in *iam.CreateRoleInput, o ...func(*iam.Options)) (out *iam.CreateRoleOutput, err error) {
	r.locked(func() { out, err = r.IAMAPI.CreateRole(ctx, in, o...) })
	return
}

// policy reads the inline policy kubectl-irsa as stored ("" when none); the caller holds r.mu.
func (r *raceIAM) policy(ctx context.Context, name string) string {
	out, err := r.IAMAPI.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(InlinePolicyName)})
	if err != nil {
		return ""
	}
	s, _ := url.QueryUnescape(aws.ToString(out.PolicyDocument))
	return s
}

func (r *raceIAM) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, o ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.policyPending > 0 && aws.ToString(in.PolicyName) == InlinePolicyName {
		r.policyPending--
		if r.policyPrev == "" {
			return nil, &smithy.GenericAPIError{Code: "NoSuchEntity", Message: "policy not found"}
		}
		return &iam.GetRolePolicyOutput{PolicyName: in.PolicyName, PolicyDocument: aws.String(url.QueryEscape(r.policyPrev))}, nil
	}
	return r.IAMAPI.GetRolePolicy(ctx, in, o...)
}

// policyWrite runs a policy write and models IAM's lag and another cluster's writer after it.
func (r *raceIAM) policyWrite(ctx context.Context, name *string, write func() error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	before := r.policy(ctx, aws.ToString(name))
	if err := write(); err != nil {
		return err
	}
	r.policyPrev, r.policyPending = before, r.lag
	if r.foreignPolicy != nil {
		if doc := r.foreignPolicy(before, r.policy(ctx, aws.ToString(name))); doc != "" {
			_, _ = r.IAMAPI.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String(InlinePolicyName), PolicyDocument: aws.String(doc)})
		}
	}
	return nil
}

func (r *raceIAM) PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, o ...func(*iam.Options)) (out *iam.PutRolePolicyOutput, err error) {
	err = r.policyWrite(ctx, in.RoleName, func() error { out, err = r.IAMAPI.PutRolePolicy(ctx, in, o...); return err })
	return out, err
}

func (r *raceIAM) DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, o ...func(*iam.Options)) (out *iam.DeleteRolePolicyOutput, err error) {
	err = r.policyWrite(ctx, in.RoleName, func() error { out, err = r.IAMAPI.DeleteRolePolicy(ctx, in, o...); return err })
	return out, err
}

func (r *raceIAM) GetOpenIDConnectProvider(ctx context.Context, in *iam.GetOpenIDConnectProviderInput, o ...func(*iam.Options)) (out *iam.GetOpenIDConnectProviderOutput, err error) {
	r.locked(func() { out, err = r.IAMAPI.GetOpenIDConnectProvider(ctx, in, o...) })
	return
}

// roleMutex is the lease of one process: a mutex per role ARN.
type roleMutex struct{ m sync.Map }

func (l *roleMutex) With(ctx context.Context, arn string, fn func(context.Context) error) error {
	mu, _ := l.m.LoadOrStore(arn, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	return fn(ctx)
}

// kubeWith has ServiceAccount ns/name; its annotation patch fails when failPatch.
func kubeWith(name string, failPatch bool) *fake.Clientset {
	kube := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "irsa-sample-ns"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "irsa-sample-ns"}},
	)
	kube.PrependReactor("create", "selfsubjectaccessreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authorizationv1.SelfSubjectAccessReview{Status: authorizationv1.SubjectAccessReviewStatus{Allowed: true}}, nil
	})
	if failPatch {
		kube.PrependReactor("patch", "serviceaccounts", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, fmt.Errorf("denied by admission policy")
		})
	}
	return kube
}

// maxForeignWrites bounds the other cluster's writes: a writer that replaces every document forever would make
// any run give up (ErrNotVisible), which is the bounded outcome, not a lost subject.
const maxForeignWrites = 3

const foreignStatement = `{"Sid":"Theirs","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`

// raceLinks runs one link per entry of fails concurrently onto the existing role "shared" (run i links sa-i and
// fails at the annotation when fails[i]), with IAM lagging lag reads and, when foreignEvery > 0, a writer from
// another cluster racing every foreignEvery-th trust write. It checks that the final trust holds exactly the
// subjects of the runs that succeeded, every foreign writer's subject, and the foreign statement.
func raceLinks(t *testing.T, fails []bool, lag, foreignEvery int, policy bool) {
	t.Helper()
	cloud := fakeaws.New()
	cloud.IAM.AddProvider(testHostPath, "sts.amazonaws.com")
	cloud.IAM.AddRole("/", "shared", `{"Version":"2012-10-17","Statement":[`+foreignStatement+`]}`)
	if policy { // the single statement an older kubectl irsa wrote: kept
		cloud.IAM.PutInline("shared", InlinePolicyName, legacyPolicy)
	}
	provider := trust.NewProvider("aws", fakeaws.Account, testIssuer)
	var foreignSubs, foreignSids []string
	writes, policyWrites := 0, 0
	r := &raceIAM{IAMAPI: cloud.IAM, lag: lag}
	if foreignEvery > 0 && policy {
		r.foreignPolicy = func(before, _ string) string {
			policyWrites++
			if policyWrites%foreignEvery != 0 || len(foreignSids) == maxForeignWrites {
				return ""
			}
			norm, _ := NormalizePolicy(before) // read before our write: a stale merge that drops ours
			sid := fmt.Sprintf("OtherCluster%d", policyWrites)
			doc, err := setOwned(norm, sid, []json.RawMessage{json.RawMessage(`{"Sid":"` + sid + `","Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}`)})
			if err != nil {
				t.Errorf("foreign policy writer: %v", err)
				return ""
			}
			foreignSids = append(foreignSids, sid)
			return doc
		}
	}
	if foreignEvery > 0 {
		r.foreign = func(before, _ string) string {
			writes++
			if writes%foreignEvery != 0 || len(foreignSubs) == maxForeignWrites {
				return ""
			}
			d, err := trust.Parse(before) // read before our write: a stale merge that drops ours
			if err != nil {
				t.Errorf("foreign writer: %v", err)
				return ""
			}
			sub := fmt.Sprintf("system:serviceaccount:other-cluster:w%d", writes)
			foreignSubs = append(foreignSubs, sub)
			d.AddSubjects(provider, "sts.amazonaws.com", sub)
			return d.String()
		}
	}
	lock := &roleMutex{}
	var wg sync.WaitGroup
	errs := make([]error, len(fails))
	for i, fail := range fails {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("sa-%d", i)
			s := &Setup{Kube: kubeWith(name, fail), IAM: r, Issuer: testIssuer, Lock: lock.With, ReadBackDelay: func(int) time.Duration { return 0 },
				Caller: func(context.Context) (awsapi.Caller, error) {
					return awsapi.Caller{Partition: "aws", Account: fakeaws.Account}, nil
				}}
			req := LinkRequest{Namespace: "irsa-sample-ns", ServiceAccount: name, RoleName: "shared"}
			if policy {
				req.Permissions = ActionsPolicy([]string{fmt.Sprintf("s3:GetObject%d", i)})
			}
			plan, err := s.PlanLink(context.Background(), req)
			if err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = plan.Apply(context.Background())
		}()
	}
	wg.Wait()
	r.pending, r.policyPending = 0, 0
	if policy {
		checkPolicyStatements(t, cloud, fails, errs, foreignSids)
	}
	doc, err := trust.Parse(cloud.IAM.Trust("shared"))
	if err != nil {
		t.Fatalf("final trust: %v", err)
	}
	got := strings.Join(doc.Subjects(provider), " ")
	for i, fail := range fails {
		sub := trust.Subject("irsa-sample-ns", fmt.Sprintf("sa-%d", i))
		switch {
		case fail && errs[i] == nil:
			t.Errorf("run %d should have failed", i)
		case !fail && errs[i] != nil:
			t.Errorf("run %d: %v", i, errs[i])
		case fail && strings.Contains(got+" ", sub+" "):
			t.Errorf("failed run %d left %s in the trust: %s", i, sub, got)
		case !fail && !strings.Contains(got+" ", sub+" "):
			t.Errorf("subject %s of a successful run lost: %s", sub, got)
		}
	}
	for _, sub := range foreignSubs {
		if !strings.Contains(got+" ", sub+" ") {
			t.Errorf("foreign writer's subject %s lost: %s", sub, got)
		}
	}
	if !strings.Contains(cloud.IAM.Trust("shared"), `"Sid":"Theirs"`) {
		t.Errorf("foreign statement lost: %s", cloud.IAM.Trust("shared"))
	}
}

// legacyPolicy is the inline policy kubectl irsa wrote before statements were per ServiceAccount.
const legacyPolicy = `{"Statement":[{"Action":["s3:ListBucket"],"Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}`

// checkPolicyStatements checks the final inline policy of role "shared": exactly one statement per successful
// run (sa-i allowing s3:GetObjecti), none of a failed run, the legacy statement and every foreign writer's.
func checkPolicyStatements(t *testing.T, cloud *fakeaws.AWS, fails []bool, errs []error, foreignSids []string) {
	t.Helper()
	doc, err := NormalizePolicy(cloud.IAM.Inline("shared", InlinePolicyName))
	if err != nil {
		t.Fatalf("final policy: %v", err)
	}
	for i, fail := range fails {
		owned, err := ownedIn(doc, PolicySid("irsa-sample-ns", fmt.Sprintf("sa-%d", i)))
		switch {
		case err != nil:
			t.Fatal(err)
		case fail && len(owned) > 0:
			t.Errorf("failed run %d left its statement: %s", i, doc)
		case !fail && errs[i] == nil && (len(owned) != 1 || !strings.Contains(string(owned[0]), fmt.Sprintf(`"s3:GetObject%d"`, i))):
			t.Errorf("statement of successful run %d lost or wrong: %s", i, doc)
		}
	}
	if !strings.Contains(doc, `{"Action":["s3:ListBucket"],"Effect":"Allow","Resource":"*"}`) {
		t.Errorf("legacy statement lost: %s", doc)
	}
	for _, sid := range foreignSids {
		if !strings.Contains(doc, `"Sid":"`+sid+`"`) {
			t.Errorf("foreign writer's statement %s lost: %s", sid, doc)
		}
	}
}

func TestConcurrentLinksKeepEverySubject(t *testing.T) {
	raceLinks(t, make([]bool, 10), 0, 0, false)
}

func TestConcurrentLinksWithLagRollbackAndForeignWriter(t *testing.T) {
	raceLinks(t, []bool{false, true, false, false, true, false, false, false}, 2, 3, true)
}

// TestConcurrentLinksKeepEveryPolicyStatement: ServiceAccounts linking onto one role at the same time, each with
// its own actions, each keep their statement in the inline policy (and the legacy statement stays).
func TestConcurrentLinksKeepEveryPolicyStatement(t *testing.T) {
	for _, tc := range []struct {
		name         string
		fails        []bool
		lag, foreign int
	}{
		{"two", []bool{false, false}, 0, 0},
		{"two with lag", []bool{false, false}, 2, 0},
		{"six with lag and a foreign writer", make([]bool, 6), 1, 2},
		{"rollbacks", []bool{true, false, true, false}, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) { raceLinks(t, tc.fails, tc.lag, tc.foreign, true) })
	}
}

// FuzzConcurrentLinkRollback runs concurrent links (some failing and rolling back) against an IAM that lags and a
// writer from another cluster that replaces documents: no subject of a successful run or of the other writer is
// ever lost, and a rollback never removes another writer's subject.
func FuzzConcurrentLinkRollback(f *testing.F) {
	f.Add(uint16(0b1010), uint8(6), uint8(1), uint8(2))
	f.Add(uint16(0), uint8(10), uint8(0), uint8(0))
	f.Add(uint16(0xffff), uint8(4), uint8(3), uint8(1))
	f.Fuzz(func(t *testing.T, failMask uint16, runs, lag, foreignEvery uint8) {
		n := int(runs%10) + 1
		fails := make([]bool, n)
		for i := range fails {
			fails[i] = failMask&(1<<i) != 0
		}
		raceLinks(t, fails, int(lag%4), int(foreignEvery%4), failMask&0x8000 != 0)
	})
}
