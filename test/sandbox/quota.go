package sandbox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"unicode"
)

// DefaultTrustSizeQuota is IAM's default quota on a role's trust policy (GetAccountSummary's
// AssumeRolePolicySizeQuota, "ACLSizePerRole" in IAM's error), in characters without whitespace.
const DefaultTrustSizeQuota = 2048

// SetTrustSizeQuota sets the trust policy quota the proxy enforces for account, as a quota increase does in IAM:
// CreateRole and UpdateAssumeRolePolicy whose trust is longer (without whitespace) are refused with IAM's
// LimitExceeded, and GetAccountSummary reports it as AssumeRolePolicySizeQuota. n <= 0 restores the default.
func (c *CallCounter) SetTrustSizeQuota(account string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n <= 0 {
		delete(c.trustQuotas, account)
		return
	}
	if c.trustQuotas == nil {
		c.trustQuotas = map[string]int{}
	}
	c.trustQuotas[account] = n
}

// TrustSizeQuota is the trust policy quota the proxy enforces for account.
func (c *CallCounter) TrustSizeQuota(account string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.trustQuotas[account]; ok {
		return n
	}
	return DefaultTrustSizeQuota
}

// SetTrustSizeQuota sets the trust policy quota of account (Account, SecondAccount, ...): see
// CallCounter.SetTrustSizeQuota.
func (s *Sandbox) SetTrustSizeQuota(account string, n int) { s.AWS.SetTrustSizeQuota(account, n) }

// requestAccount is the account the request's credentials act in (Account for a plain counter, or when the
// credentials cannot be told).
func (c *CallCounter) requestAccount(r *http.Request) string {
	if c.eks == nil {
		return Account
	}
	if a, err := c.eks.accounts.accountOf(r); err == nil {
		return a
	}
	return Account
}

// policySize counts a policy as IAM counts it against its quotas: characters other than whitespace.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// trustParameter is the request parameter holding the trust policy, per IAM action.
var trustParameter = map[string]string{"CreateRole": "AssumeRolePolicyDocument", "UpdateAssumeRolePolicy": "PolicyDocument"}

// refuseOversizedTrust answers a CreateRole or UpdateAssumeRolePolicy whose trust is over the account's quota with
// IAM's error (409 LimitExceeded "Cannot exceed quota for ACLSizePerRole: N") and reports whether it did.
func (c *CallCounter) refuseOversizedTrust(w http.ResponseWriter, r *http.Request, action string, form url.Values) bool {
	param, ok := trustParameter[action]
	if !ok {
		return false
	}
	quota := c.TrustSizeQuota(c.requestAccount(r))
	if policySize(form.Get(param)) <= quota {
		return false
	}
	writeIAMError(w, http.StatusConflict, "LimitExceeded", fmt.Sprintf("Cannot exceed quota for ACLSizePerRole: %d", quota))
	return true
}

var trustQuotaEntry = regexp.MustCompile(`<key>AssumeRolePolicySizeQuota</key>\s*<value>\d+</value>`)

// accountSummary answers GetAccountSummary with moto's answer, AssumeRolePolicySizeQuota set to the quota the
// proxy enforces for the caller's account.
func (c *CallCounter) accountSummary(w http.ResponseWriter, r *http.Request) {
	quota := c.TrustSizeQuota(c.requestAccount(r))
	rec := httptest.NewRecorder()
	c.proxy.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		body = trustQuotaEntry.ReplaceAll(body, []byte("<key>AssumeRolePolicySizeQuota</key><value>"+strconv.Itoa(quota)+"</value>"))
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}
