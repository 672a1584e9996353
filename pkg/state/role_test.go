package state

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

const otherAccount = "222222222222"

func roleRef(t *testing.T, arn string) iamref.Role {
	t.Helper()
	r, err := iamref.ParseRole(arn)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A failed read through the readers keeps the SDK error: errors.As finds smithy.APIError, both on Role.Err
// and on the one-line ReadError, for a role, a provider, attached and managed policies.
func TestReadersKeepTheSDKError(t *testing.T) {
	ctx := context.Background()
	cloud := fakeaws.New()
	cloud.IAM.AddRole("", "r", `{}`)
	for _, op := range []string{"GetRole", "GetOpenIDConnectProvider", "ListAttachedRolePolicies", "GetPolicy"} {
		cloud.Fail(op, &smithy.OperationError{ServiceID: "IAM", OperationName: op, Err: fakeaws.AccessDenied(op)})
	}
	role := ReadRole(ctx, cloud.IAM, "r")
	provider := ReadProvider(ctx, cloud.IAM, "arn:aws:iam::"+fakeaws.Account+":oidc-provider/example.com/id/X")
	_, attachedErr := AttachedPolicies(ctx, cloud.IAM, "r")
	_, managedErr := ManagedPolicyDocument(ctx, cloud.IAM, "arn:aws:iam::aws:policy/ReadOnlyAccess")
	if role.Presence != Unknown || provider.Presence != Unknown {
		t.Fatalf("a denied read is not Unknown: role %+v, provider %+v", role, provider)
	}
	for name, err := range map[string]error{"role": role.Err, "role line": role.ReadError(), "provider": provider.Err,
		"provider line": provider.ReadError(), "attached": attachedErr, "managed": managedErr} {
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" {
			t.Errorf("%s: errors.As(smithy.APIError) does not find AccessDenied in %v", name, err)
		}
	}
	if got, want := role.ReadError().Error(), "iam:GetRole r: AccessDenied: User is not authorized to perform: iam:GetRole"; got != want {
		t.Errorf("ReadError %q, want %q", got, want)
	}
}

func TestReadRoleThreeValued(t *testing.T) {
	ctx := context.Background()
	cloud := fakeaws.New()
	cloud.IAM.AddRole("/team/", "r", `{"Version":"2012-10-17","Statement":[]}`)
	got := ReadRole(ctx, cloud.IAM, "r")
	if got.Presence != Found || got.Path != "/team/" || got.Account != fakeaws.Account || !got.Is("arn:aws:iam::"+fakeaws.Account+":role/team/r") || got.ReadError() != nil {
		t.Errorf("found role %+v", got)
	}
	if got := ReadRole(ctx, cloud.IAM, "gone"); got.Presence != Missing || got.ReadError() == nil {
		t.Errorf("missing role %+v", got)
	}
}

// The router sends another account's role to that account's client, the caller's to home without asking
// who the caller is (GetRole's ARN tells), and caches a refusal: never "missing".
func TestReaderRoutesByAccount(t *testing.T) {
	ctx := context.Background()
	home, other := fakeaws.New(), fakeaws.New()
	home.IAM.AddRole("", "mine", `{}`)
	home.IAM.AddRole("", "shared", `{}`)                                       // same name as the other account's: must not be taken for it
	other.IAM.AddRole("", "shared", `{"Version":"2012-10-17","Statement":[]}`) // the fake answers in its own account id
	var asked, resolved atomic.Int32
	homeAccount := func(context.Context) (string, error) { asked.Add(1); return fakeaws.Account, nil }
	others := map[string]IAMReader{otherAccount: other.IAM}
	router := NewRouter[IAMReader](home.IAM, homeAccount, func(_ context.Context, account string) (IAMReader, error) {
		resolved.Add(1)
		if c, ok := others[account]; ok {
			return c, nil
		}
		return nil, errors.New("no credentials for account " + account)
	})
	reader := NewReader(router)
	mine := reader.Role(ctx, roleRef(t, "arn:aws:iam::"+fakeaws.Account+":role/mine"))
	if mine.Presence != Found || asked.Load() != 0 {
		t.Errorf("own role %+v, caller asked %d times", mine, asked.Load())
	}
	shared := reader.Role(ctx, roleRef(t, "arn:aws:iam::"+otherAccount+":role/shared"))
	if shared.Presence != Found || shared.Trust == "%7B%7D" || len(other.Calls()) != 1 {
		t.Errorf("other account's role read as %+v", shared)
	}
	third := roleRef(t, "arn:aws:iam::333333333333:role/shared")
	for range 2 {
		got := reader.Role(ctx, third)
		if got.Presence != Unknown || !errors.Is(got.Err, ErrNoAccountClient) {
			t.Errorf("role without credentials %+v", got)
		}
	}
	if resolved.Load() != 2 {
		t.Errorf("other accounts resolved %d times, want 2 (each once)", resolved.Load())
	}
}

// Concurrent reads of one ARN make one call; Roles reads each distinct role once.
func TestReaderReadsEachRoleOnce(t *testing.T) {
	ctx := context.Background()
	cloud := fakeaws.New()
	var refs []iamref.Role
	for _, n := range []string{"a", "b", "c"} {
		cloud.IAM.AddRole("", n, `{}`)
		refs = append(refs, roleRef(t, "arn:aws:iam::"+fakeaws.Account+":role/"+n))
	}
	reader := NewReader(NewRouter[IAMReader](cloud.IAM, nil, nil))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { reader.Role(ctx, refs[0]) })
	}
	wg.Wait()
	got := reader.Roles(ctx, append(refs, refs...))
	if len(got) != 3 || got[refs[2].ARN].Presence != Found {
		t.Errorf("roles %+v", got)
	}
	n := 0
	for _, c := range cloud.Calls() {
		if c == "GetRole" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d GetRole calls for 3 distinct roles read 26 times, want 3", n)
	}
}
