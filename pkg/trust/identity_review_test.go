package trust

import "testing"

// TestEvaluateIdentityReviewCases: the cases a review tried, among them resource patterns whose trailing * expands
// beyond the colons (arn:aws:eks:*), which an exact six-component comparison judged wrongly both ways.
func TestEvaluateIdentityReviewCases(t *testing.T) {
	const cl = "arn:aws:eks:us-east-1:111122223333:cluster/prod"
	cases := []struct {
		name, doc, res string
		want           Verdict
	}{
		{"string", `{"Statement":{"Effect":"Allow","Action":"eks-auth:AssumeRoleForPodIdentity","Resource":"*"}}`, cl, Admits},
		{"mixed", `{"Statement":[{"Effect":"Allow","Action":["EKS-Auth:assumeRoleForPodIdentity"],"Resource":"*"}]}`, cl, Admits},
		{"assumestar", `{"Statement":[{"Effect":"Allow","Action":"eks-auth:Assume*","Resource":"*"}]}`, cl, Admits},
		{"starstar", `{"Statement":[{"Effect":"Allow","Action":"*:*","Resource":"*"}]}`, cl, Admits},
		{"notaction allow", `{"Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`, cl, Admits},
		{"notaction allow excl", `{"Statement":[{"Effect":"Allow","NotAction":"eks-auth:*","Resource":"*"}]}`, cl, Refuses},
		{"notaction deny", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":"s3:*","Resource":"*"}]}`, cl, Refuses},
		{"notaction deny excl", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":["eks-auth:Assume*"],"Resource":"*"}]}`, cl, Admits},
		{"resource list", `{"Statement":[{"Effect":"Allow","Action":"eks-auth:*","Resource":["arn:aws:s3:::x","arn:aws:eks:*:111122223333:cluster/*"]}]}`, cl, Admits},
		{"resource other cluster", `{"Statement":[{"Effect":"Allow","Action":"eks-auth:*","Resource":["arn:aws:eks:*:111122223333:cluster/dev"]}]}`, cl, Refuses},
		{"notresource", `{"Statement":[{"Effect":"Allow","Action":"eks-auth:*","NotResource":"arn:aws:s3:::*"}]}`, cl, Admits},
		{"notresource excl", `{"Statement":[{"Effect":"Allow","Action":"eks-auth:*","NotResource":"arn:aws:eks:*:*:cluster/prod"}]}`, cl, Refuses},
		{"deny notresource", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","NotResource":"arn:aws:s3:::*"}]}`, cl, Refuses},
		{"cond allow", `{"Statement":[{"Effect":"Allow","Action":"eks-auth:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}`, cl, CannotTell},
		{"cond deny", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, cl, CannotTell},
		{"empty cond deny", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{}}]}`, cl, Refuses},
		{"res unknown", `{"Statement":[{"Effect":"Allow","Action":"eks-auth:*","Resource":"arn:aws:eks:*:*:cluster/*"}]}`, "", CannotTell},
		{"res trailing star", `{"Statement":[{"Effect":"Allow","Action":"eks-auth:*","Resource":"arn:aws:eks:*"}]}`, cl, Admits},
		{"deny trailing star", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"eks-auth:*","Resource":"arn:aws:eks:*"}]}`, cl, Refuses},
		{"res region star", `{"Statement":[{"Effect":"Allow","Action":"eks-auth:*","Resource":"arn:aws:eks:us-east-1:*"}]}`, cl, Admits},
		{"res case", `{"Statement":[{"Effect":"Allow","Action":"eks-auth:*","Resource":"arn:aws:eks:US-EAST-1:111122223333:cluster/prod"}]}`, cl, Refuses},
		{"qmark", `{"Statement":[{"Effect":"Allow","Action":"eks-auth:AssumeRoleForPodIdentit?","Resource":"*"}]}`, cl, Admits},
		{"action space", `{"Statement":[{"Effect":"Allow","Action":"eks-auth: AssumeRoleForPodIdentity","Resource":"*"}]}`, cl, Refuses},
	}
	for _, c := range cases {
		d, err := Parse(c.doc)
		if err != nil {
			t.Errorf("%s: parse %v", c.name, err)
			continue
		}
		ev := EvaluateIdentity("eks-auth:AssumeRoleForPodIdentity", c.res, IdentityPolicy{Name: "p", Doc: d})
		if ev.Verdict != c.want {
			t.Errorf("%s: got %s want %s (%+v)", c.name, ev.Verdict, c.want, ev)
		}
	}
}
