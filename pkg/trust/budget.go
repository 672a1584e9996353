package trust

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Budget is a trust policy's size as IAM counts it (characters without whitespace) against a quota, broken down
// by statement kind. Envelope + the statements' sizes = Size.
type Budget struct {
	Size, Quota int
	// Envelope is what is not a statement: Version, Id, brackets and the commas between statements.
	Envelope int
	// Providers are the statements trusting an OIDC provider, per provider ARN, in the document's order.
	Providers []ProviderBudget
	// PodIdentity is the size of the statements trusting pods.eks.amazonaws.com.
	PodIdentity int
	// Foreign is the size of every other statement.
	Foreign int
}

// ProviderBudget is the share of one OIDC provider (one cluster's issuer).
type ProviderBudget struct {
	ProviderARN string
	Statements  int
	Size        int
}

// Headroom is Quota - Size (negative when over).
func (b Budget) Headroom() int { return b.Quota - b.Size }

// Budget breaks the policy's size down against quota. A statement naming both an OIDC provider and another
// principal counts as a provider statement (of its first provider).
func (d *Document) Budget(quota int) Budget {
	b := Budget{Size: d.Size(), Quota: quota}
	used := 0
	for _, raw := range d.Statements {
		n := countNonSpace(string(raw))
		used += n
		st, err := ParseStatement(raw)
		switch {
		case err == nil && slices.ContainsFunc(st.Principal.Federated, isOIDCProvider):
			arn := st.Principal.Federated[slices.IndexFunc(st.Principal.Federated, isOIDCProvider)]
			i := slices.IndexFunc(b.Providers, func(p ProviderBudget) bool { return p.ProviderARN == arn })
			if i < 0 {
				i = len(b.Providers)
				b.Providers = append(b.Providers, ProviderBudget{ProviderARN: arn})
			}
			b.Providers[i].Statements++
			b.Providers[i].Size += n
		case err == nil && slices.Contains(st.Principal.Service, ServicePodIdentity):
			b.PodIdentity += n
		default:
			b.Foreign += n
		}
	}
	b.Envelope = b.Size - used
	return b
}

func isOIDCProvider(arn string) bool { return strings.Contains(arn, ":oidc-provider/") }

func countNonSpace(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// ServiceAccountsThatFit is how many more ServiceAccounts with subjects as long as like fit in our statement for
// provider p and audience without the policy exceeding quota, found by rendering the changed document. It is -1
// when such subjects are admitted already (a wildcard) so that adding one costs nothing, and 0 when even one does
// not fit. A hand-edited statement carrying our Sid is a *ForeignShapeError.
func (d *Document) ServiceAccountsThatFit(p Provider, audience, like string, quota int) (int, error) {
	size := func(n int) (int, error) {
		c := d.Clone()
		subs := make([]string, 0, n)
		for i := 0; len(subs) < n; i++ {
			if s := sameLengthSubject(like, i); !slices.Contains(subs, s) {
				subs = append(subs, s)
			}
		}
		added, err := c.AddSubjectsChecked(p, audience, subs...)
		if err != nil {
			return 0, err
		}
		if len(added) == 0 && n > 0 {
			return -1, nil
		}
		return c.Size(), nil
	}
	one, err := size(1)
	if err != nil || one < 0 {
		return one, err
	}
	if one > quota {
		return 0, nil
	}
	two, err := size(2)
	if err != nil {
		return 0, err
	}
	// Each subject after the first adds the same characters; guess, then settle by rendering.
	n := 1
	if step := two - one; step > 0 {
		n = 1 + (quota-one)/step
	}
	return settle(n, quota, size)
}

// ClustersThatFit is how many more clusters fit without the policy exceeding quota: each a provider statement
// shaped like ours for like (a provider whose ARN and issuer are as long as like's) admitting subjects, found by
// rendering the changed document.
func (d *Document) ClustersThatFit(like Provider, audience string, subjects []string, quota int) (int, error) {
	if len(subjects) == 0 {
		return 0, fmt.Errorf("a cluster's statement needs at least one subject")
	}
	size := func(n int) (int, error) {
		c := d.Clone()
		for i := range n {
			if _, err := c.AddSubjectsChecked(sameLengthProvider(like, i), audience, subjects...); err != nil {
				return 0, err
			}
		}
		return c.Size(), nil
	}
	one, err := size(1)
	if err != nil || one > quota {
		return 0, err
	}
	n := 1
	if step := one - d.Size(); step > 0 {
		n = 1 + (quota-one)/step
	}
	return settle(n, quota, size)
}

// settle moves the guess n to the largest count whose rendered size is within quota (size(1) fits).
func settle(n, quota int, size func(int) (int, error)) (int, error) {
	for n > 1 {
		s, err := size(n)
		if err != nil {
			return 0, err
		}
		if s <= quota {
			break
		}
		n--
	}
	for {
		s, err := size(n + 1)
		if err != nil {
			return 0, err
		}
		if s > quota {
			return n, nil
		}
		n++
	}
}

// sameLengthSubject is the i-th made-up ServiceAccount subject as long as like (or as short as can be): a
// stand-in for the next ServiceAccount, to measure its cost.
func sameLengthSubject(like string, i int) string {
	s := fmt.Sprintf("system:serviceaccount:%d:", i)
	return s + strings.Repeat("s", max(1, len(like)-len(s)))
}

// sameLengthProvider is the i-th made-up provider whose ARN and issuer are as long as like's: the last characters
// of its issuer replaced by i.
func sameLengthProvider(like Provider, i int) Provider {
	id := fmt.Sprintf("z%d", i) // EKS issuer ids are upper-case hex: never the provider like itself
	hp := like.HostPath
	if len(hp) > len(id) {
		hp = hp[:len(hp)-len(id)] + id
	} else {
		hp += id
	}
	return Provider{ARN: strings.TrimSuffix(like.ARN, like.HostPath) + hp, HostPath: hp}
}

// ForeignPrincipals names, one per statement, the principals of the statements kubectl irsa did not write (a
// Sid without its prefix): "AWS arn:aws:iam::111122223333:root", "Service ec2.amazonaws.com", "Federated ARN",
// "*", or "NotPrincipal". diff shows them: a cross-account principal added by hand is not drift, but it is
// worth seeing.
func (d *Document) ForeignPrincipals() []string {
	var out []string
	for _, raw := range d.Statements {
		st, err := ParseStatement(raw)
		if err == nil && strings.HasPrefix(st.Sid, sidPrefix) {
			continue
		}
		var names []string
		switch {
		case err != nil:
			names = append(names, "unreadable statement")
		case st.NotPrincipal != nil:
			names = append(names, "NotPrincipal")
		case st.Principal.Any:
			names = append(names, "*")
		}
		if err == nil {
			for _, p := range st.Principal.AWS {
				names = append(names, "AWS "+p)
			}
			for _, p := range st.Principal.Service {
				names = append(names, "Service "+p)
			}
			for _, p := range st.Principal.Federated {
				names = append(names, "Federated "+p)
			}
		}
		out = append(out, strings.Join(names, ", "))
	}
	return out
}
