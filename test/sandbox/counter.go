package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CallCounter is the sandbox's AWS endpoint: a reverse proxy in front of moto_server that records every AWS API
// call passing through it, as service:Operation, so tests and benchmarks can count the calls a real binary makes.
//
// The sandbox's proxy (Sandbox.AWS) also serves the APIs moto lacks (EKS Pod Identity associations, add-ons,
// access entries, EKS Auth AssumeRoleForPodIdentity: see EKSEmulator) and has modes tests switch at run time:
// one-item pages (SetOneItemPages) and injected errors (InjectFault). Like IAM (and unlike moto), it enforces each
// account's trust policy quota (SetTrustSizeQuota).
type CallCounter struct {
	// URL is the proxy's address, for AWS_ENDPOINT_URL.
	URL    string
	server *httptest.Server
	target *url.URL
	proxy  *httputil.ReverseProxy
	// eks serves the emulated APIs; nil for a plain counter (NewCallCounter).
	eks *EKSEmulator

	mu           sync.Mutex
	calls        []string
	oneItemPages bool
	faults       []*Fault
	delays       []*Delay
	// signUnsigned signs unsigned STS requests before moto sees them (Options.MotoAuth); nil otherwise.
	signUnsigned *aws.Credentials
	// trustQuotas is the trust policy quota per account (DefaultTrustSizeQuota when absent).
	trustQuotas map[string]int
}

// Fault makes the proxy answer matching calls with an error in the service's own wire format instead of
// forwarding them.
type Fault struct {
	// Operation is the call as Calls() records it, e.g. "iam:GetRolePolicy" or "eks:CreatePodIdentityAssociation".
	Operation string
	// RoleName, when set, limits the fault to calls about that role: IAM's RoleName parameter, or the role of the
	// roleArn in an EKS request body.
	RoleName string
	// Code is the error code; default AccessDenied (IAM, STS, S3) or AccessDeniedException (JSON services).
	Code string
	// Message is the error message; default IAM's "User: ... is not authorized to perform: ..." wording.
	Message string
	// Status is the HTTP status; default 403 (400 for eks-auth, whose AccessDeniedException is a 400).
	Status int
}

// Delay makes the proxy hold matching calls for Wait before forwarding them, so a test can act (interrupt the
// binary) while a write is in flight, every time.
type Delay struct {
	// Operation and RoleName match calls as Fault's do.
	Operation, RoleName string
	Wait                time.Duration
	// arrived receives one value per matching call as it starts waiting.
	arrived chan string
}

// InjectDelay holds matching calls for d.Wait; arrived tells each one's operation as it starts waiting. remove
// (or ClearFaults) ends it.
func (c *CallCounter) InjectDelay(d Delay) (arrived <-chan string, remove func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	dp := &d
	dp.arrived = make(chan string, 64)
	c.delays = append(c.delays, dp)
	return dp.arrived, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.delays = slices.DeleteFunc(c.delays, func(g *Delay) bool { return g == dp })
	}
}

// hold waits as the first delay matching the call says.
func (c *CallCounter) hold(r *http.Request, op string, body []byte) {
	c.mu.Lock()
	var d *Delay
	for _, g := range c.delays {
		if g.Operation == op && (g.RoleName == "" || requestRoleName(op, body) == g.RoleName) {
			d = g
			break
		}
	}
	c.mu.Unlock()
	if d == nil {
		return
	}
	select {
	case d.arrived <- op:
	default:
	}
	select {
	case <-time.After(d.Wait):
	case <-r.Context().Done():
	}
}

var credentialScope = regexp.MustCompile(`Credential=([^/]+)/\d{8}/[^/]+/([^/]+)/aws4_request`)

// NewCallCounter starts a counting proxy to the AWS endpoint target (no emulated APIs, no modes in effect).
func NewCallCounter(target string) (*CallCounter, error) {
	return newProxy(target, nil)
}

func newProxy(target string, eks *EKSEmulator) (*CallCounter, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	c := &CallCounter{target: u, proxy: httputil.NewSingleHostReverseProxy(u), eks: eks}
	// httptest.NewServer listens on 127.0.0.1 only.
	c.server = httptest.NewServer(http.HandlerFunc(c.serve))
	c.URL = c.server.URL
	return c, nil
}

func (c *CallCounter) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	op := operation(r, body)
	c.record(op)
	c.hold(r, op, body)
	if f := c.fault(op, body); f != nil {
		writeFault(w, r, op, body, f, c.eks)
		return
	}
	c.mu.Lock()
	onePage, signAs := c.oneItemPages, c.signUnsigned
	c.mu.Unlock()
	if signAs != nil && r.Header.Get("Authorization") == "" && strings.HasPrefix(op, "sts:") {
		if err := signSTS(r, body, signAs); err != nil {
			writeIAMError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
			return
		}
	}
	if c.eks != nil && c.eks.handles(r) {
		c.eks.serveHTTP(w, r, body, onePage)
		return
	}
	service, action, _ := strings.Cut(op, ":")
	if service == "iam" {
		form, _ := url.ParseQuery(string(body))
		if c.refuseOversizedTrust(w, r, action, form) {
			return
		}
		switch {
		case action == "GetAccountSummary":
			c.accountSummary(w, r)
			return
		case action == "ListRolePolicies" && (onePage || form.Get("MaxItems") != "" || form.Get("Marker") != ""):
			c.listRolePolicies(w, r, form, onePage)
			return
		case onePage && iamPagedByMoto[action]:
			form.Set("MaxItems", "1")
			setBody(r, []byte(form.Encode()))
		}
	}
	if c.eks != nil && op == "eks:DescribeCluster" && r.Method == http.MethodGet {
		mode, issuer := c.eks.describeOverrides(r)
		if mode != "" || issuer != "" {
			c.describeClusterWithMode(w, r, mode, issuer)
			return
		}
	}
	if onePage && service == "eks" && action == "ListClusters" {
		q := r.URL.Query()
		q.Set("maxResults", "1")
		r.URL.RawQuery = q.Encode()
	}
	c.proxy.ServeHTTP(w, r)
}

// iamPagedByMoto are the IAM list calls whose MaxItems/Marker moto honours; ListRolePolicies it ignores (the proxy
// pages it), and ListOpenIDConnectProviders has no paging in IAM's API.
var iamPagedByMoto = map[string]bool{"ListRoles": true, "ListAttachedRolePolicies": true, "ListPolicies": true}

func setBody(r *http.Request, b []byte) {
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	r.Header.Set("Content-Length", strconv.Itoa(len(b)))
}

// SetOneItemPages makes every paged list answer one item per page: MaxItems=1 on IAM ListRoles,
// ListAttachedRolePolicies and ListPolicies (moto pages them), ListRolePolicies cut by the proxy itself (moto
// ignores MaxItems there) with IAM's IsTruncated/Marker continuation, maxResults=1 on EKS ListClusters, and
// maxResults=1 on the emulated ListPodIdentityAssociations, ListAddons and ListAccessEntries.
func (c *CallCounter) SetOneItemPages(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.oneItemPages = on
}

// InjectFault makes matching calls fail until the returned function (or ClearFaults) removes the fault.
func (c *CallCounter) InjectFault(f Fault) (remove func()) {
	fp := &f
	c.mu.Lock()
	c.faults = append(c.faults, fp)
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, g := range c.faults {
			if g == fp {
				c.faults = append(c.faults[:i], c.faults[i+1:]...)
				return
			}
		}
	}
}

// ClearFaults removes every injected fault.
func (c *CallCounter) ClearFaults() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = nil
	c.delays = nil
}

func (c *CallCounter) fault(op string, body []byte) *Fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.faults {
		if f.Operation != op {
			continue
		}
		if f.RoleName != "" && requestRoleName(op, body) != f.RoleName {
			continue
		}
		return f
	}
	return nil
}

// requestRoleName is the role a call is about: IAM's RoleName, or the name in a JSON body's roleArn.
func requestRoleName(op string, body []byte) string {
	if strings.HasPrefix(op, "iam:") || strings.HasPrefix(op, "sts:") {
		form, _ := url.ParseQuery(string(body))
		if n := form.Get("RoleName"); n != "" {
			return n
		}
		return roleNameOf(form.Get("RoleArn"))
	}
	var v struct {
		RoleArn string `json:"roleArn"`
	}
	_ = json.Unmarshal(body, &v)
	return roleNameOf(v.RoleArn)
}

// roleNameOf is the name in a role ARN (after the path).
func roleNameOf(arn string) string {
	_, res, ok := strings.Cut(arn, ":role/")
	if !ok {
		return ""
	}
	return res[strings.LastIndex(res, "/")+1:]
}

func writeFault(w http.ResponseWriter, r *http.Request, op string, body []byte, f *Fault, eks *EKSEmulator) {
	service, action, _ := strings.Cut(op, ":")
	account := Account
	if eks != nil {
		if a, err := eks.accounts.accountOf(r); err == nil {
			account = a
		}
	}
	resource := "*"
	if n := requestRoleName(op, body); n != "" {
		resource = "role " + n
		if service != "iam" {
			resource = fmt.Sprintf("arn:aws:iam::%s:role/%s", account, n)
		}
	}
	iamAction := service + ":" + action
	msg := f.Message
	if msg == "" {
		msg = fmt.Sprintf("User: arn:aws:iam::%s:user/sandbox is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action", account, iamAction, resource, iamAction)
	}
	status := f.Status
	if service == "s3" {
		code := f.Code
		if code == "" {
			code = "AccessDenied"
		}
		if f.Message == "" {
			msg = s3Messages[code]
		}
		if status == 0 {
			status = http.StatusForbidden
		}
		writeS3Error(w, status, code, msg)
		return
	}
	if service == "iam" || service == "sts" {
		code := f.Code
		if code == "" {
			code = "AccessDenied"
		}
		if status == 0 {
			status = http.StatusForbidden
		}
		ns := "https://iam.amazonaws.com/doc/2010-05-08/"
		if service == "sts" {
			ns = "https://sts.amazonaws.com/doc/2011-06-15/"
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, `<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>`, ns, code)
		_ = xml.EscapeText(&b, []byte(msg))
		fmt.Fprintf(&b, `</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, requestID())
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = w.Write(b.Bytes())
		return
	}
	code := f.Code
	if code == "" {
		code = "AccessDeniedException"
	}
	if status == 0 {
		status = http.StatusForbidden
		if service == "eks-auth" {
			status = http.StatusBadRequest
		}
	}
	writeJSONError(w, status, code, msg)
}

// listRolePolicies pages ListRolePolicies as IAM does (moto returns every name at once): at most MaxItems names
// (1 in one-item mode) after Marker, with IsTruncated and the Marker of the next page.
func (c *CallCounter) listRolePolicies(w http.ResponseWriter, r *http.Request, form url.Values, onePage bool) {
	max := 100
	if v, err := strconv.Atoi(form.Get("MaxItems")); err == nil && v > 0 {
		max = v
	}
	if onePage {
		max = 1
	}
	marker := form.Get("Marker")
	fwd := url.Values{"Action": {"ListRolePolicies"}, "Version": {form.Get("Version")}, "RoleName": {form.Get("RoleName")}}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, c.target.String()+"/", strings.NewReader(fwd.Encode()))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for _, h := range []string{"Authorization", "X-Amz-Security-Token", "X-Amz-Date", "Content-Type"} {
		req.Header.Set(h, r.Header.Get(h))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var parsed struct {
		Names []string `xml:"ListRolePoliciesResult>PolicyNames>member"`
	}
	if resp.StatusCode != http.StatusOK || xml.Unmarshal(raw, &parsed) != nil {
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(raw)
		return
	}
	start := 0
	if marker != "" {
		name, err := base64.RawURLEncoding.DecodeString(marker)
		start = slices.Index(parsed.Names, string(name))
		if err != nil || start < 0 {
			writeIAMError(w, http.StatusBadRequest, "InvalidInput", "Invalid Marker.")
			return
		}
	}
	end := min(start+max, len(parsed.Names))
	var b bytes.Buffer
	b.WriteString(`<ListRolePoliciesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListRolePoliciesResult><PolicyNames>`)
	for _, n := range parsed.Names[start:end] {
		b.WriteString("<member>")
		_ = xml.EscapeText(&b, []byte(n))
		b.WriteString("</member>")
	}
	b.WriteString("</PolicyNames>")
	if end < len(parsed.Names) {
		fmt.Fprintf(&b, "<IsTruncated>true</IsTruncated><Marker>%s</Marker>", base64.RawURLEncoding.EncodeToString([]byte(parsed.Names[end])))
	} else {
		b.WriteString("<IsTruncated>false</IsTruncated>")
	}
	fmt.Fprintf(&b, "</ListRolePoliciesResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></ListRolePoliciesResponse>", requestID())
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(b.Bytes())
}

func writeIAMError(w http.ResponseWriter, status int, code, msg string) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>`, code)
	_ = xml.EscapeText(&b, []byte(msg))
	fmt.Fprintf(&b, `</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, requestID())
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// writeJSONError answers in the REST-JSON error format of EKS and EKS Auth: the error type in x-amzn-ErrorType,
// the message in the body.
func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.Header().Set("X-Amzn-Requestid", requestID())
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// restOperations names the REST calls (EKS, EKS Auth) by their API operation.
var restOperations = []struct {
	method  string
	path    *regexp.Regexp
	service string
	name    string
}{
	{"POST", regexp.MustCompile(`^/clusters/[^/]+/assume-role-for-pod-identity$`), "eks-auth", "AssumeRoleForPodIdentity"},
	{"POST", regexp.MustCompile(`^/clusters/[^/]+/pod-identity-associations$`), "eks", "CreatePodIdentityAssociation"},
	{"GET", regexp.MustCompile(`^/clusters/[^/]+/pod-identity-associations$`), "eks", "ListPodIdentityAssociations"},
	{"GET", regexp.MustCompile(`^/clusters/[^/]+/pod-identity-associations/[^/]+$`), "eks", "DescribePodIdentityAssociation"},
	{"POST", regexp.MustCompile(`^/clusters/[^/]+/pod-identity-associations/[^/]+$`), "eks", "UpdatePodIdentityAssociation"},
	{"DELETE", regexp.MustCompile(`^/clusters/[^/]+/pod-identity-associations/[^/]+$`), "eks", "DeletePodIdentityAssociation"},
	{"GET", regexp.MustCompile(`^/clusters/[^/]+/addons$`), "eks", "ListAddons"},
	{"POST", regexp.MustCompile(`^/clusters/[^/]+/addons$`), "eks", "CreateAddon"},
	{"GET", regexp.MustCompile(`^/clusters/[^/]+/addons/[^/]+$`), "eks", "DescribeAddon"},
	{"DELETE", regexp.MustCompile(`^/clusters/[^/]+/addons/[^/]+$`), "eks", "DeleteAddon"},
	{"GET", regexp.MustCompile(`^/clusters/[^/]+/access-entries$`), "eks", "ListAccessEntries"},
	{"GET", regexp.MustCompile(`^/clusters/[^/]+/access-entries/.+$`), "eks", "DescribeAccessEntry"},
	{"GET", regexp.MustCompile(`^/clusters$`), "eks", "ListClusters"},
	{"POST", regexp.MustCompile(`^/clusters$`), "eks", "CreateCluster"},
	{"GET", regexp.MustCompile(`^/clusters/[^/]+$`), "eks", "DescribeCluster"},
	{"DELETE", regexp.MustCompile(`^/clusters/[^/]+$`), "eks", "DeleteCluster"},
}

// signingService is the service name of the request's SigV4 credential scope ("" when unsigned).
func signingService(r *http.Request) string {
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[2]
	}
	return ""
}

// accessKeyID is the access key that signed the request ("" when unsigned).
func accessKeyID(r *http.Request) string {
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return ""
}

// operation names a request: the query protocol's Action (IAM, STS), the JSON protocol's target, else the REST
// operation (EKS, EKS Auth) from its method and path, else the method and path.
func operation(r *http.Request, body []byte) string {
	service := signingService(r)
	if service == "" {
		service = "unknown"
	}
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
		if service == "unknown" {
			service = "sts" // AssumeRoleWithWebIdentity is unsigned
		}
		return service + ":" + form.Get("Action")
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return service + ":" + t[strings.LastIndex(t, ".")+1:]
	}
	if service == "s3" {
		return s3Operation(r)
	}
	for _, op := range restOperations {
		if r.Method == op.method && op.path.MatchString(r.URL.Path) && (service == "unknown" || service == op.service) {
			return op.service + ":" + op.name
		}
	}
	return service + ":" + r.Method + " " + r.URL.Path
}

func (c *CallCounter) record(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, op)
}

// Reset forgets the calls recorded so far.
func (c *CallCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
}

// Calls returns the calls recorded since the last Reset, in order.
func (c *CallCounter) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

// Writes returns the recorded calls that change state (anything but Get*, List*, Describe*, and STS and EKS Auth
// credential calls).
func (c *CallCounter) Writes() []string {
	var out []string
	for _, op := range c.Calls() {
		_, name, _ := strings.Cut(op, ":")
		if strings.HasPrefix(op, "sts:") || strings.HasPrefix(op, "eks-auth:") || strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "GET ") {
			continue
		}
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// Close stops the proxy.
func (c *CallCounter) Close() { c.server.Close() }

// describeClusterWithMode answers DescribeCluster with moto's answer plus the accessConfig moto does not report
// (authenticationMode set by EKSEmulator.SetAuthenticationMode, when not "") and the cluster's own issuer (when
// not "": moto gives every cluster the same one).
func (c *CallCounter) describeClusterWithMode(w http.ResponseWriter, r *http.Request, mode, issuer string) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, c.target.String()+r.URL.RequestURI(), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for _, h := range []string{"Authorization", "X-Amz-Security-Token", "X-Amz-Date"} {
		req.Header.Set(h, r.Header.Get(h))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil || out["cluster"] == nil {
		for _, h := range []string{"Content-Type", "X-Amzn-Errortype", "X-Amzn-Requestid"} {
			if v := resp.Header.Get(h); v != "" {
				w.Header().Set(h, v)
			}
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(raw)
		return
	}
	if mode != "" {
		out["cluster"]["accessConfig"] = map[string]any{"authenticationMode": mode, "bootstrapClusterCreatorAdminPermissions": true}
	}
	if issuer != "" {
		out["cluster"]["identity"] = map[string]any{"oidc": map[string]any{"issuer": issuer}}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", requestID())
	_ = json.NewEncoder(w).Encode(out)
}
