package sandbox

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// CallCounter is a reverse proxy in front of moto_server that records every AWS API call passing through it,
// as service:Operation, so tests and benchmarks can count the calls a real binary makes.
type CallCounter struct {
	// URL is the proxy's address, for AWS_ENDPOINT_URL.
	URL    string
	server *httptest.Server
	mu     sync.Mutex
	calls  []string
}

var credentialScope = regexp.MustCompile(`Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request`)

// NewCallCounter starts a counting proxy to the AWS endpoint target.
func NewCallCounter(target string) (*CallCounter, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	c := &CallCounter{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	c.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		c.record(operation(r, body))
		proxy.ServeHTTP(w, r)
	}))
	c.URL = c.server.URL
	return c, nil
}

// operation names a request: the query protocol's Action (IAM, STS), else the REST method and path (EKS).
func operation(r *http.Request, body []byte) string {
	service := "unknown"
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		service = m[1]
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

// Writes returns the recorded calls that change state (anything but Get*, List*, Describe*, and STS calls).
func (c *CallCounter) Writes() []string {
	var out []string
	for _, op := range c.Calls() {
		_, name, _ := strings.Cut(op, ":")
		if strings.HasPrefix(op, "sts:") || strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "GET ") {
			continue
		}
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// Close stops the proxy.
func (c *CallCounter) Close() { c.server.Close() }
