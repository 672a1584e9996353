package sandbox

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
)

// PodIdentityAgentAddon is the add-on name of the EKS Pod Identity Agent.
const PodIdentityAgentAddon = "eks-pod-identity-agent"

// EKSEmulator serves, behind the sandbox's AWS proxy, the EKS APIs moto 5.2 lacks, on the wire format of the EKS
// API reference (REST-JSON, errors typed by x-amzn-ErrorType): Create/List/Describe/Update/DeletePodIdentityAssociation,
// ListAddons/DescribeAddon/CreateAddon/DeleteAddon, ListAccessEntries/DescribeAccessEntry (and the cluster's
// accessConfig in DescribeCluster's answer once SetAuthenticationMode is called), and EKS Auth
// AssumeRoleForPodIdentity.
// Clusters are moto's (DescribeCluster in the caller's account); roles are read from moto's IAM in the role's
// account; credentials come from moto's STS. Its association store is shared in-process with the webhook.
type EKSEmulator struct {
	moto     string
	accounts *accounts
	kube     kubernetes.Interface
	// issuer and tokenKey verify ServiceAccount tokens in AssumeRoleForPodIdentity.
	issuer   string
	tokenKey *rsa.PublicKey
	now      func() time.Time

	mu            sync.Mutex
	associations  []*PodIdentityAssociation // in creation order
	addons        map[string][]*Addon       // cluster ARN -> add-ons in creation order
	accessEntries map[string][]*AccessEntry // cluster ARN -> access entries in creation order
	authModes     map[string]string         // cluster ARN -> authentication mode (none: moto's answer as it is)
	clusterARNs   map[string]string         // account/name -> ARN
	issuers       map[string]string         // cluster ARN -> its own issuer (moto gives every cluster the same)
	clusters      map[string]*clusterAuth   // cluster ARN -> what verifies its tokens, and its kube-apiserver
	sessions      []PodIdentitySession
}

// PodIdentityAssociation is an association as the emulator stores it.
type PodIdentityAssociation struct {
	ClusterName        string
	ClusterARN         string
	Namespace          string
	ServiceAccount     string
	RoleARN            string
	AssociationARN     string
	AssociationID      string
	Tags               map[string]string
	CreatedAt          time.Time
	ModifiedAt         time.Time
	DisableSessionTags bool
	TargetRoleARN      string
	ExternalID         string
}

// Addon is an EKS add-on as the emulator stores it.
type Addon struct {
	Name, Version, ARN, ClusterName string
	ServiceAccountRoleARN           string
	Tags                            map[string]string
	CreatedAt                       time.Time
}

func newEKSEmulator(moto string, accts *accounts) *EKSEmulator {
	return &EKSEmulator{moto: moto, accounts: accts, now: time.Now,
		addons: map[string][]*Addon{}, accessEntries: map[string][]*AccessEntry{}, authModes: map[string]string{}, clusterARNs: map[string]string{}}
}

// Associations returns a copy of every stored association, in creation order.
func (e *EKSEmulator) Associations() []PodIdentityAssociation {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]PodIdentityAssociation, 0, len(e.associations))
	for _, a := range e.associations {
		out = append(out, a.clone())
	}
	return out
}

// AssociationFor returns the association of namespace/serviceAccount in the sandbox account's cluster clusterName.
func (e *EKSEmulator) AssociationFor(clusterName, namespace, serviceAccount string) (PodIdentityAssociation, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	arn := fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, Account, clusterName)
	for _, a := range e.associations {
		if a.ClusterARN == arn && a.Namespace == namespace && a.ServiceAccount == serviceAccount {
			return a.clone(), true
		}
	}
	return PodIdentityAssociation{}, false
}

// Reset forgets every association, add-on and access entry.
func (e *EKSEmulator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.associations = nil
	e.addons = map[string][]*Addon{}
	e.accessEntries = map[string][]*AccessEntry{}
	e.authModes = map[string]string{}
}

// AccessEntry is an EKS access entry as the emulator stores it.
type AccessEntry struct {
	PrincipalARN string
	// Type is STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX...
	Type      string
	Username  string
	Groups    []string
	CreatedAt time.Time
}

// AddAccessEntry records an access entry of the given type (STANDARD when "") for principalARN in the sandbox
// account's cluster clusterName (there is no emulated CreateAccessEntry); it returns a function that removes it.
func (e *EKSEmulator) AddAccessEntry(clusterName, principalARN, entryType string) (remove func()) {
	if entryType == "" {
		entryType = "STANDARD"
	}
	entry := &AccessEntry{PrincipalARN: principalARN, Type: entryType, CreatedAt: e.now().UTC()}
	switch entryType {
	case "EC2_LINUX", "EC2_WINDOWS", "HYBRID_LINUX":
		entry.Username, entry.Groups = "system:node:{{EC2PrivateDNSName}}", []string{"system:nodes"}
	default:
		entry.Username = principalARN
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	arn := fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, Account, clusterName)
	e.accessEntries[arn] = append(e.accessEntries[arn], entry)
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.accessEntries[arn] = slices.DeleteFunc(e.accessEntries[arn], func(a *AccessEntry) bool { return a == entry })
	}
}

// describeOverrides are the authentication mode and the issuer set for the cluster a DescribeCluster request
// names, in the caller's account ("" for each not set: moto's answer stands).
func (e *EKSEmulator) describeOverrides(r *http.Request) (mode, issuer string) {
	name := unescape(strings.TrimPrefix(r.URL.Path, "/clusters/"))
	account, err := e.accounts.accountOf(r)
	if err != nil {
		return "", ""
	}
	arn := fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, account, name)
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.authModes[arn], e.issuers[arn]
}

// clusterAuth is what the emulator knows of one of the sandbox's clusters: the issuer and key that verify its
// ServiceAccount tokens (EKS Auth), and its API server (the Pod Identity Agent add-on's DaemonSet).
type clusterAuth struct {
	issuer   string
	tokenKey *rsa.PublicKey
	kube     kubernetes.Interface
}

// addCluster registers a cluster of the sandbox account by name: EKS Auth verifies the tokens presented for it
// with its own issuer and key, and its add-ons' DaemonSets go to its own API server.
func (e *EKSEmulator) addCluster(clusterName, issuer string, key *rsa.PublicKey, kube kubernetes.Interface) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.clusters == nil {
		e.clusters = map[string]*clusterAuth{}
	}
	e.clusters[fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, Account, clusterName)] = &clusterAuth{issuer: issuer, tokenKey: key, kube: kube}
}

// cluster returns what the emulator knows of the cluster clusterARN: its own when registered; else the first
// cluster's issuer and key (a cluster of another account made by a test) and no API server.
func (e *EKSEmulator) cluster(clusterARN string) clusterAuth {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.clusters[clusterARN]; c != nil {
		return *c
	}
	return clusterAuth{issuer: e.issuer, tokenKey: e.tokenKey}
}

// setIssuer makes DescribeCluster of the sandbox account's cluster clusterName report issuer.
func (e *EKSEmulator) setIssuer(clusterName, issuer string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.issuers == nil {
		e.issuers = map[string]string{}
	}
	e.issuers[fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, Account, clusterName)] = issuer
}

// SetAuthenticationMode makes DescribeCluster of the sandbox account's cluster clusterName report accessConfig
// with this authentication mode (CONFIG_MAP, API_AND_CONFIG_MAP, API; "" reports none, as moto does); in
// CONFIG_MAP mode the access entry APIs answer InvalidRequestException, as EKS does.
func (e *EKSEmulator) SetAuthenticationMode(clusterName, mode string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	arn := fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, Account, clusterName)
	if mode == "" {
		delete(e.authModes, arn)
		return
	}
	e.authModes[arn] = mode
}

func (a *PodIdentityAssociation) clone() PodIdentityAssociation {
	c := *a
	c.Tags = make(map[string]string, len(a.Tags))
	for k, v := range a.Tags {
		c.Tags[k] = v
	}
	return c
}

// apiError is an error answered in the EKS wire format.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func invalidParameter(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterException", msg}
}

func notFound(msg string) *apiError {
	return &apiError{http.StatusNotFound, "ResourceNotFoundException", msg}
}

var (
	associationsPath = regexp.MustCompile(`^/clusters/([^/]+)/pod-identity-associations(?:/([^/]+))?$`)
	addonsPath       = regexp.MustCompile(`^/clusters/([^/]+)/addons(?:/([^/]+))?$`)
	// An access entry's principal ARN is one path segment, escaped: r.URL.Path holds it unescaped, slashes and all.
	accessPath = regexp.MustCompile(`^/clusters/([^/]+)/access-entries(?:/(arn:.+))?$`)
	assumePath = regexp.MustCompile(`^/clusters/([^/]+)/assume-role-for-pod-identity$`)
)

// handles tells whether the request is for an emulated API: routed by path, and by the SigV4 scope's service
// name (eks, eks-auth) when the request is signed.
func (e *EKSEmulator) handles(r *http.Request) bool {
	svc := signingService(r)
	switch {
	case assumePath.MatchString(r.URL.Path):
		return svc == "" || svc == "eks-auth"
	case associationsPath.MatchString(r.URL.Path), addonsPath.MatchString(r.URL.Path), accessPath.MatchString(r.URL.Path):
		return svc == "" || svc == "eks"
	}
	return false
}

func (e *EKSEmulator) serveHTTP(w http.ResponseWriter, r *http.Request, body []byte, onePage bool) {
	out, err := e.dispatch(r, body, onePage)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{http.StatusInternalServerError, "ServerException", err.Error()}
			if assumePath.MatchString(r.URL.Path) {
				ae.code = "InternalServerException"
			}
		}
		writeJSONError(w, ae.status, ae.code, ae.message)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", requestID())
	_ = json.NewEncoder(w).Encode(out)
}

func (e *EKSEmulator) dispatch(r *http.Request, body []byte, onePage bool) (any, error) {
	if m := assumePath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPost {
		return e.assumeRoleForPodIdentity(r, unescape(m[1]), body)
	}
	if r.Header.Get("Authorization") == "" {
		return nil, &apiError{http.StatusForbidden, "AccessDeniedException", "Missing Authentication Token"}
	}
	var m []string
	var kind string
	for _, p := range []struct {
		re   *regexp.Regexp
		kind string
	}{{associationsPath, "association"}, {addonsPath, "addon"}, {accessPath, "access"}} {
		if m = p.re.FindStringSubmatch(r.URL.Path); m != nil {
			kind = p.kind
			break
		}
	}
	if m == nil {
		return nil, notFound("not found")
	}
	cluster := unescape(m[1])
	id := ""
	if len(m) > 2 {
		id = unescape(m[2])
	}
	clusterARN, err := e.clusterARN(r, cluster)
	if err != nil {
		return nil, err
	}
	switch kind + " " + r.Method {
	case "association POST":
		if id == "" {
			return e.createAssociation(r.Context(), cluster, clusterARN, body)
		}
		return e.updateAssociation(r.Context(), clusterARN, id, body)
	case "association GET":
		if id == "" {
			return e.listAssociations(cluster, clusterARN, r.URL.Query(), onePage)
		}
		return e.describeAssociation(clusterARN, id)
	case "association DELETE":
		if id != "" {
			return e.deleteAssociation(clusterARN, id)
		}
	case "addon POST":
		if id == "" {
			return e.createAddon(r.Context(), cluster, clusterARN, body)
		}
	case "addon GET":
		if id == "" {
			return e.listAddons(clusterARN, r.URL.Query(), onePage)
		}
		return e.describeAddon(cluster, clusterARN, id)
	case "addon DELETE":
		if id != "" {
			return e.deleteAddon(r.Context(), cluster, clusterARN, id)
		}
	case "access GET":
		if id == "" {
			return e.listAccessEntries(clusterARN, r.URL.Query(), onePage)
		}
		return e.describeAccessEntry(cluster, clusterARN, id)
	}
	return nil, &apiError{http.StatusMethodNotAllowed, "InvalidRequestException", r.Method + " is not supported on " + r.URL.Path}
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// clusterARN asks moto's EKS, as the caller's account, for the cluster (ResourceNotFoundException when it has none).
func (e *EKSEmulator) clusterARN(r *http.Request, name string) (string, error) {
	account, err := e.accounts.accountOf(r)
	if err != nil {
		return "", err
	}
	e.mu.Lock()
	arn, ok := e.clusterARNs[account+"/"+name]
	e.mu.Unlock()
	if ok {
		return arn, nil
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, e.moto+"/clusters/"+url.PathEscape(name), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", r.Header.Get("Authorization"))
	if t := r.Header.Get("X-Amz-Security-Token"); t != "" {
		req.Header.Set("X-Amz-Security-Token", t)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Cluster struct {
			Arn string `json:"arn"`
		} `json:"cluster"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.Cluster.Arn == "" {
		return "", notFound(fmt.Sprintf("No cluster found for name: %s.", name))
	}
	e.mu.Lock()
	e.clusterARNs[account+"/"+name] = out.Cluster.Arn
	e.mu.Unlock()
	return out.Cluster.Arn, nil
}

// page cuts items (already filtered) at nextToken, to maxResults (1..100, default 100; 1 in one-item mode).
// The token is the opaque position of the next item.
func page[T any](items []T, q url.Values, onePage bool) ([]T, string, error) {
	max := 100
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nil, "", invalidParameter("maxResults must be between 1 and 100.")
		}
		max = n
	}
	if onePage {
		max = 1
	}
	start := 0
	if tok := q.Get("nextToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "pos:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), "pos:") || n < 0 || n > len(items) {
			return nil, "", invalidParameter("The nextToken provided is invalid.")
		}
		start = n
	}
	end := min(start+max, len(items))
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte("pos:" + strconv.Itoa(end)))
	}
	return items[start:end], next, nil
}

func (e *EKSEmulator) listAssociations(cluster, clusterARN string, q url.Values, onePage bool) (any, error) {
	e.mu.Lock()
	var items []summaryJSON
	for _, a := range e.associations {
		if a.ClusterARN != clusterARN || (q.Get("namespace") != "" && a.Namespace != q.Get("namespace")) ||
			(q.Get("serviceAccount") != "" && a.ServiceAccount != q.Get("serviceAccount")) {
			continue
		}
		items = append(items, summaryJSON{ClusterName: cluster, Namespace: a.Namespace, ServiceAccount: a.ServiceAccount,
			AssociationArn: a.AssociationARN, AssociationID: a.AssociationID})
	}
	e.mu.Unlock()
	got, next, err := page(items, q, onePage)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"associations": nonNil(got)}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
