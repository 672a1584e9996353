package trust

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// The EKS user guide's trust policy for Pod Identity ("Create IAM role with trust policy required by EKS Pod
// Identity"): Principal {"Service": "pods.eks.amazonaws.com"}, Action ["sts:AssumeRole", "sts:TagSession"].
const (
	podSvc     = `{"Service":"pods.eks.amazonaws.com"}`
	podBoth    = `["sts:AssumeRole","sts:TagSession"]`
	clusterARN = "arn:aws:eks:us-east-1:123456789012:cluster/demo"
)

func TestEvaluatePodIdentity(t *testing.T) {
	tags := PodIdentityRequest{Context: PodIdentitySessionTags(clusterARN, "demo", "irsa-sample-ns", "irsa-test")}
	nsCond := `{"StringEquals":{"aws:RequestTag/kubernetes-namespace":["irsa-sample-ns"],"aws:RequestTag/kubernetes-service-account":["irsa-test"]}}`
	tests := []struct {
		name        string
		statements  []string
		req         PodIdentityRequest
		want        Verdict
		wantMissing []string
		unknown     []string
	}{
		{"the guide's policy", []string{stmt("Allow", podSvc, podBoth, "")}, PodIdentityRequest{}, Admits, nil, nil},
		{"AssumeRole only: TagSession missing", []string{stmt("Allow", podSvc, `"sts:AssumeRole"`, "")}, PodIdentityRequest{}, Refuses, []string{ActionTagSession}, nil},
		{"TagSession only: AssumeRole missing", []string{stmt("Allow", podSvc, `"sts:TagSession"`, "")}, PodIdentityRequest{}, Refuses, []string{ActionAssumeRole}, nil},
		{"split over two statements", []string{stmt("Allow", podSvc, `"sts:AssumeRole"`, ""), stmt("Allow", podSvc, `"sts:TagSession"`, "")}, PodIdentityRequest{}, Admits, nil, nil},
		{"sts:* wildcard", []string{stmt("Allow", podSvc, `"sts:*"`, "")}, PodIdentityRequest{}, Admits, nil, nil},
		{"another service", []string{stmt("Allow", `{"Service":"ec2.amazonaws.com"}`, podBoth, "")}, PodIdentityRequest{}, Refuses, []string{ActionAssumeRole, ActionTagSession}, nil},
		{"Deny on TagSession", []string{stmt("Allow", podSvc, podBoth, ""), stmt("Deny", podSvc, `"sts:TagSession"`, "")}, PodIdentityRequest{}, Refuses, []string{ActionTagSession}, nil},
		// The guide restricts the role with aws:RequestTag/kubernetes-namespace and kubernetes-service-account.
		{"session tags known and matching", []string{stmt("Allow", podSvc, podBoth, nsCond)}, tags, Admits, nil, nil},
		{"session tags known, another namespace", []string{stmt("Allow", podSvc, podBoth, nsCond)},
			PodIdentityRequest{Context: PodIdentitySessionTags(clusterARN, "demo", "other", "irsa-test")}, Refuses, []string{ActionAssumeRole, ActionTagSession}, nil},
		{"session tags unknown", []string{stmt("Allow", podSvc, podBoth, nsCond)}, PodIdentityRequest{}, CannotTell, nil,
			[]string{"aws:RequestTag/kubernetes-namespace", "aws:RequestTag/kubernetes-service-account"}},
		// Confused-deputy keys some examples add (aws:SourceAccount, aws:SourceArn): unknown unless given.
		{"aws:SourceAccount unknown", []string{stmt("Allow", podSvc, podBoth, `{"StringEquals":{"aws:SourceAccount":"123456789012"}}`)}, PodIdentityRequest{}, CannotTell, nil, []string{"aws:SourceAccount"}},
		{"aws:SourceArn given, ArnLike", []string{stmt("Allow", podSvc, podBoth, `{"StringEquals":{"aws:SourceAccount":"123456789012"},"ArnLike":{"aws:SourceArn":"arn:aws:eks:us-east-1:123456789012:podidentityassociation/*"}}`)},
			PodIdentityRequest{Context: map[string]string{"aws:SourceAccount": "123456789012", "aws:sourcearn": "arn:aws:eks:us-east-1:123456789012:podidentityassociation/demo/a-1"}}, Admits, nil, nil},
		{"aws:SourceArn of another account", []string{stmt("Allow", podSvc, podBoth, `{"ArnLike":{"aws:SourceArn":"arn:aws:eks:*:123456789012:*"}}`)},
			PodIdentityRequest{Context: map[string]string{"aws:SourceArn": "arn:aws:eks:us-east-1:999999999999:podidentityassociation/demo/a-1"}}, Refuses, []string{ActionAssumeRole, ActionTagSession}, nil},
		{"IRSA statement does not count", []string{stmt("Allow", `{"Federated":"`+provider.ARN+`"}`, `"sts:AssumeRoleWithWebIdentity"`, "")}, PodIdentityRequest{}, Refuses, []string{ActionAssumeRole, ActionTagSession}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(`{"Version":"2012-10-17","Statement":[` + strings.Join(tt.statements, ",") + `]}`)
			if err != nil {
				t.Fatal(err)
			}
			ev := d.EvaluatePodIdentity(tt.req)
			if ev.Verdict != tt.want || !slices.Equal(ev.Missing, tt.wantMissing) || !slices.Equal(ev.UnknownKeys, tt.unknown) {
				t.Errorf("verdict=%s missing=%v unknown=%v, want %s %v %v", ev.Verdict, ev.Missing, ev.UnknownKeys, tt.want, tt.wantMissing, tt.unknown)
			}
		})
	}
}

func TestAddRemovePodIdentity(t *testing.T) {
	irsa := New().with(provider, DefaultAudience, subA)
	tests := []struct {
		name      string
		start     string
		wantAdded bool
		wantErr   bool
	}{
		{"IRSA role gains our statement", irsa, true, false},
		{"already allowed by a foreign statement: no write", `{"Version":"2012-10-17","Statement":[` + stmt("Allow", podSvc, podBoth, "") + `]}`, false, false},
		{"foreign statement lacks TagSession: ours added", `{"Version":"2012-10-17","Statement":[` + stmt("Allow", podSvc, `"sts:AssumeRole"`, "") + `]}`, true, false},
		{"foreign statement with unknown conditions: ours added", `{"Version":"2012-10-17","Statement":[` +
			stmt("Allow", podSvc, podBoth, `{"StringEquals":{"aws:SourceAccount":"1"}}`) + `]}`, true, false},
		{"hand-edited statement with our Sid", `{"Version":"2012-10-17","Statement":[{"Sid":"KubectlIrsaPodIdentity","Effect":"Allow","Principal":` + podSvc +
			`,"Action":"sts:AssumeRole"}]}`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.start)
			if err != nil {
				t.Fatal(err)
			}
			before := d.Clone()
			added, err := d.AddPodIdentity(PodIdentityRequest{})
			var fs *ForeignShapeError
			if added != tt.wantAdded || (err != nil) != tt.wantErr || tt.wantErr && (!errors.As(err, &fs) || fs.Sid != PodIdentitySid) {
				t.Fatalf("added=%v err=%v", added, err)
			}
			assertForeignKept(t, before, d)
			if !added {
				if !d.Equal(before) {
					t.Errorf("not added but changed")
				}
				return
			}
			if ev := d.EvaluatePodIdentity(PodIdentityRequest{}); ev.Verdict != Admits {
				t.Errorf("after add: %+v", ev)
			}
			if again, err := d.AddPodIdentity(PodIdentityRequest{}); again || err != nil {
				t.Errorf("second add: %v %v", again, err)
			}
			removed, err := d.RemovePodIdentity()
			if !removed || err != nil || !d.Equal(before) {
				t.Errorf("remove: %v %v\n%s\n%s", removed, err, d, before)
			}
		})
	}
	t.Run("exact statement", func(t *testing.T) {
		want := `{"Sid":"KubectlIrsaPodIdentity","Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}`
		if got := string(newPodIdentityStatement()); got != want {
			t.Errorf("statement = %s", got)
		}
	})
	t.Run("last statement is not removed", func(t *testing.T) {
		d, _ := Parse(`{"Statement":[` + string(newPodIdentityStatement()) + `]}`)
		if removed, err := d.RemovePodIdentity(); removed || !errors.Is(err, ErrEmptyPolicy) || len(d.Statements) != 1 {
			t.Errorf("removed=%v err=%v", removed, err)
		}
	})
	t.Run("remove leaves foreign Pod Identity statements", func(t *testing.T) {
		d, _ := Parse(`{"Statement":[` + stmt("Allow", podSvc, podBoth, "") + `]}`)
		if removed, err := d.RemovePodIdentity(); removed || err != nil || len(d.Statements) != 1 {
			t.Errorf("removed=%v err=%v", removed, err)
		}
	})
}

func TestTrustsPodIdentity(t *testing.T) {
	for _, tt := range []struct {
		statement string
		want      bool
	}{
		{stmt("Allow", podSvc, `"sts:AssumeRole"`, `{"StringEquals":{"aws:SourceAccount":"1"}}`), true},
		{stmt("Allow", podSvc, `"sts:TagSession"`, ""), false},
		{stmt("Deny", podSvc, `"sts:AssumeRole"`, ""), false},
		{stmt("Allow", `{"Service":["ec2.amazonaws.com","pods.eks.amazonaws.com"]}`, `"sts:*"`, ""), true},
		{foreign, false},
	} {
		d, err := Parse(`{"Statement":[` + tt.statement + `]}`)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.TrustsPodIdentity(); got != tt.want {
			t.Errorf("%s: %v", tt.statement, got)
		}
	}
}
