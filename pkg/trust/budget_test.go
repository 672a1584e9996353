package trust

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

const foreignStatement = `{"Sid":"Admins","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}`

// budgetDoc builds a trust with n subjects per given provider, Pod Identity when asked, and foreign statements.
func budgetDoc(t *testing.T, subjects map[Provider]int, podIdentity bool, foreign ...string) *Document {
	t.Helper()
	d := New()
	for _, p := range []Provider{provider, other} {
		for i := range subjects[p] {
			if _, err := d.AddSubjectsChecked(p, DefaultAudience, Subject("team", fmt.Sprintf("app-%02d", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if podIdentity {
		if _, err := d.AddPodIdentity(PodIdentityRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range foreign {
		d.Statements = append(d.Statements, json.RawMessage(f))
	}
	return d
}

// fitsWith renders d plus n subjects (names unlike sameLengthSubject's, same length as like) and says whether it
// is within quota: the independent check of ServiceAccountsThatFit.
func fitsWith(t *testing.T, d *Document, p Provider, like string, n, quota int) bool {
	t.Helper()
	c := d.Clone()
	for i := range n {
		s := fmt.Sprintf("system:serviceaccount:other-%03d:", i)
		for len(s) < len(like) {
			s += "x"
		}
		if added := c.AddSubjects(p, DefaultAudience, s); len(added) != 1 {
			t.Fatalf("subject %s not added", s)
		}
	}
	return c.CheckSize(quota) == nil
}

func TestBudgetBreakdown(t *testing.T) {
	tests := []struct {
		name                       string
		doc                        *Document
		providers                  int
		podIdentity, foreign, size bool
	}{
		{"one provider", budgetDoc(t, map[Provider]int{provider: 1}, false), 1, false, false, true},
		{"two providers, Pod Identity, foreign", budgetDoc(t, map[Provider]int{provider: 3, other: 1}, true, foreignStatement), 2, true, true, true},
		{"Pod Identity only", budgetDoc(t, nil, true), 0, true, false, true},
		{"foreign provider statement", budgetDoc(t, nil, false, `{"Effect":"Allow","Principal":{"Federated":"`+other.ARN+`"},"Action":"sts:AssumeRoleWithWebIdentity"}`), 1, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.doc.Budget(DefaultSizeLimit)
			if b.Size != countNonSpace(tt.doc.Indent()) || b.Size != len(tt.doc.String()) {
				t.Errorf("Size %d, document %d without whitespace", b.Size, countNonSpace(tt.doc.Indent()))
			}
			sum := b.Envelope + b.PodIdentity + b.Foreign
			for _, p := range b.Providers {
				sum += p.Size
			}
			if sum != b.Size || b.Envelope <= 0 {
				t.Errorf("parts add up to %d, size %d (%+v)", sum, b.Size, b)
			}
			if len(b.Providers) != tt.providers || (b.PodIdentity > 0) != tt.podIdentity || (b.Foreign > 0) != tt.foreign {
				t.Errorf("breakdown %+v", b)
			}
			if b.Headroom() != DefaultSizeLimit-b.Size {
				t.Errorf("headroom %d", b.Headroom())
			}
		})
	}
	// One provider statement per provider, its size the statement's own.
	d := budgetDoc(t, map[Provider]int{provider: 2, other: 1}, false)
	b := d.Budget(DefaultSizeLimit)
	if b.Providers[0].ProviderARN != provider.ARN || b.Providers[0].Statements != 1 || b.Providers[0].Size != len(d.Statements[0]) || b.Providers[1].ProviderARN != other.ARN {
		t.Errorf("providers %+v", b.Providers)
	}
}

func TestServiceAccountsThatFit(t *testing.T) {
	like := Subject("team", "app-00")
	tests := []struct {
		name  string
		doc   *Document
		quota int
		want  int // -2: any positive count, checked by rendering
	}{
		{"first subject of a new statement", budgetDoc(t, map[Provider]int{other: 1}, false), DefaultSizeLimit, -2},
		{"one subject already", budgetDoc(t, map[Provider]int{provider: 1}, false), DefaultSizeLimit, -2},
		{"many subjects, Pod Identity, foreign", budgetDoc(t, map[Provider]int{provider: 20, other: 2}, true, foreignStatement), DefaultSizeLimit, -2},
		{"raised quota", budgetDoc(t, map[Provider]int{provider: 20}, false), 4096, -2},
		{"full", budgetDoc(t, map[Provider]int{provider: 1}, false), 440, 0},
		{"over already", budgetDoc(t, map[Provider]int{provider: 60}, false), DefaultSizeLimit, 0},
		{"wildcard admits every ServiceAccount", budgetDoc(t, nil, false, `{"Effect":"Allow","Principal":{"Federated":"`+provider.ARN+`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"`+provider.HostPath+`:sub":"system:serviceaccount:*","`+provider.HostPath+`:aud":"sts.amazonaws.com"}}}`), DefaultSizeLimit, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.doc.String()
			n, err := tt.doc.ServiceAccountsThatFit(provider, DefaultAudience, like, tt.quota)
			if err != nil {
				t.Fatal(err)
			}
			if tt.doc.String() != before {
				t.Error("the document changed")
			}
			if tt.want != -2 {
				if n != tt.want {
					t.Errorf("got %d, want %d", n, tt.want)
				}
				return
			}
			if n < 1 || !fitsWith(t, tt.doc, provider, like, n, tt.quota) || fitsWith(t, tt.doc, provider, like, n+1, tt.quota) {
				t.Errorf("got %d: rendering says otherwise", n)
			}
		})
	}
	// The measured figures (shared/README): at 2,048 one cluster's role holds about 46 ServiceAccounts.
	empty := New()
	if n, _ := empty.ServiceAccountsThatFit(provider, DefaultAudience, Subject("default", "my-app"), DefaultSizeLimit); n < 40 || n > 50 {
		t.Errorf("an empty trust fits %d ServiceAccounts at 2048, measured about 46", n)
	}
}

func TestServiceAccountsThatFitForeignShape(t *testing.T) {
	d := budgetDoc(t, map[Provider]int{provider: 1}, false)
	var st map[string]any
	_ = json.Unmarshal(d.Statements[0], &st)
	st["Action"] = []string{ActionAssumeRoleWithWebIdentity, "sts:TagSession"}
	d.Statements[0], _ = json.Marshal(st)
	if _, err := d.ServiceAccountsThatFit(provider, DefaultAudience, subA, DefaultSizeLimit); err == nil {
		t.Error("a hand-edited statement with our Sid was measured as ours")
	}
}

func TestClustersThatFit(t *testing.T) {
	subjects := []string{Subject("team", "app-00")}
	tests := []struct {
		name     string
		doc      *Document
		subjects []string
		quota    int
		want     int // -2: checked by rendering
	}{
		{"one cluster, one ServiceAccount", budgetDoc(t, map[Provider]int{provider: 1}, false), subjects, DefaultSizeLimit, -2},
		{"two clusters, Pod Identity, foreign", budgetDoc(t, map[Provider]int{provider: 1, other: 1}, true, foreignStatement), subjects, DefaultSizeLimit, -2},
		{"three ServiceAccounts per cluster", budgetDoc(t, map[Provider]int{provider: 3}, false), []string{subA, subB, Subject("team", "app-00")}, DefaultSizeLimit, -2},
		{"raised quota", budgetDoc(t, map[Provider]int{provider: 1}, false), subjects, 10240, -2},
		{"no room", budgetDoc(t, map[Provider]int{provider: 1}, false), subjects, 600, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.doc.ClustersThatFit(provider, DefaultAudience, tt.subjects, tt.quota)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != -2 {
				if n != tt.want {
					t.Errorf("got %d, want %d", n, tt.want)
				}
				return
			}
			// Independent check: real EKS-shaped providers of the same length, rendered.
			render := func(k int) bool {
				c := tt.doc.Clone()
				for i := range k {
					p := NewProvider("aws", "123456789012", fmt.Sprintf("https://oidc.eks.us-east-1.amazonaws.com/id/%010X", 0xC0000+i))
					if added, _ := c.AddSubjectsChecked(p, DefaultAudience, tt.subjects...); len(added) != len(tt.subjects) {
						t.Fatalf("cluster %d not added", i)
					}
				}
				return c.CheckSize(tt.quota) == nil
			}
			if n < 1 || !render(n) || render(n+1) {
				t.Errorf("got %d: rendering says otherwise", n)
			}
		})
	}
	if _, err := New().ClustersThatFit(provider, DefaultAudience, nil, DefaultSizeLimit); err == nil {
		t.Error("a cluster without subjects was measured")
	}
	// The measured figures: at 2,048 a role fits about 4 clusters of one ServiceAccount.
	if n, _ := New().ClustersThatFit(provider, DefaultAudience, subjects, DefaultSizeLimit); n < 3 || n > 5 {
		t.Errorf("an empty trust fits %d clusters at 2048, measured about 4", n)
	}
}

func TestForeignPrincipals(t *testing.T) {
	p := NewProvider("aws", "123456789012", "https://oidc.eks.us-east-1.amazonaws.com/id/ABC")
	d := New()
	d.AddSubjects(p, "sts.amazonaws.com", Subject("ns", "app"))
	d.Statements = append(d.Statements,
		json.RawMessage(`{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::999999999999:root","arn:aws:iam::888888888888:role/ci"]},"Action":"sts:AssumeRole"}`),
		json.RawMessage(`{"Sid":"Ec2","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`),
		json.RawMessage(`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`))
	got := d.ForeignPrincipals()
	want := []string{"AWS arn:aws:iam::999999999999:root, AWS arn:aws:iam::888888888888:role/ci", "Service ec2.amazonaws.com", "*"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
