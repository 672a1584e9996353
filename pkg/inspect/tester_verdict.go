package inspect

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// judgeSuccess decides the verdict once STS accepted the token and the credentials work. The local evaluation
// is three-valued: only a certain refusal contradicts STS; when it cannot tell (condition keys it does not
// model, such as aws:SourceIp) or the role could not be read, STS's answer stands and a note says what it rests
// on. An STS endpoint that is not AWS's (an emulator) evaluates nothing: a note says its answer proves nothing.
func (t *Tester) judgeSuccess(res *TestResult) {
	emulated := !IsAWSEndpoint(t.STSEndpoint)
	if emulated {
		res.Notes = append(res.Notes, fmt.Sprintf("STS endpoint %s is not AWS: its answer proves nothing about the trust", t.STSEndpoint))
	}
	switch {
	case res.Trust == nil:
		res.Notes = append(res.Notes, "the trust policy was not read, so it was not evaluated locally: the verdict is STS's alone")
		res.unreadRoleSettled()
	case res.Trust.Verdict == trust.Refuses:
		res.credentials = nil
		if emulated {
			res.Reason = "the trust policy does not admit the token (STS here accepted it anyway: the AWS emulator does not evaluate trust policies; real STS would refuse)"
		} else {
			res.Reason = "the trust policy does not admit the token by every rule kubectl irsa models, yet STS accepted it: check the role's trust by hand"
		}
		return
	case res.Trust.Verdict == trust.CannotTell:
		res.Notes = append(res.Notes, fmt.Sprintf("the trust policy depends on condition keys kubectl irsa does not model (%s): STS decided them",
			strings.Join(res.Trust.UnknownKeys, ", ")))
	}
	res.Verdict = VerdictPass
}

// IsAWSEndpoint reports whether an endpoint URL is AWS's own (empty: the SDK's default, which is AWS).
func IsAWSEndpoint(endpoint string) bool {
	if endpoint == "" {
		return true
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, suffix := range []string{".amazonaws.com", ".amazonaws.com.cn", ".api.aws"} {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return false
}
