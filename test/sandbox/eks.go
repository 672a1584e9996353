package sandbox

import (
	"context"
	"crypto/rand"
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// PodIdentityAgentAddon is the add-on name of the EKS Pod Identity Agent.
const PodIdentityAgentAddon = "eks-pod-identity-agent"

// EKSEmulator serves, behind the sandbox's AWS proxy, the EKS APIs moto 5.2 lacks, on the wire format of the EKS
// API reference (REST-JSON, errors typed by x-amzn-ErrorType): Create/List/Describe/Update/DeletePodIdentityAssociation,
// ListAddons/DescribeAddon/CreateAddon/DeleteAddon, ListAccessEntries, and EKS Auth AssumeRoleForPodIdentity.
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
	accessEntries map[string][]string       // cluster ARN -> principal ARNs
	clusterARNs   map[string]string         // account/name -> ARN
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
		addons: map[string][]*Addon{}, accessEntries: map[string][]string{}, clusterARNs: map[string]string{}}
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
	e.accessEntries = map[string][]string{}
}

// AddAccessEntry records an access entry for principalARN in the sandbox account's cluster clusterName (there is
// no emulated CreateAccessEntry).
func (e *EKSEmulator) AddAccessEntry(clusterName, principalARN string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	arn := fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, Account, clusterName)
	e.accessEntries[arn] = append(e.accessEntries[arn], principalARN)
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
	accessPath       = regexp.MustCompile(`^/clusters/([^/]+)/access-entries$`)
	assumePath       = regexp.MustCompile(`^/clusters/([^/]+)/assume-role-for-pod-identity$`)
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
		return e.listAccessEntries(clusterARN, r.URL.Query(), onePage)
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

// associationJSON is the PodIdentityAssociation shape of the EKS API.
type associationJSON struct {
	ClusterName        string            `json:"clusterName"`
	Namespace          string            `json:"namespace"`
	ServiceAccount     string            `json:"serviceAccount"`
	RoleArn            string            `json:"roleArn"`
	AssociationArn     string            `json:"associationArn"`
	AssociationID      string            `json:"associationId"`
	Tags               map[string]string `json:"tags"`
	CreatedAt          float64           `json:"createdAt"`
	ModifiedAt         float64           `json:"modifiedAt"`
	DisableSessionTags bool              `json:"disableSessionTags"`
	TargetRoleArn      string            `json:"targetRoleArn,omitempty"`
	ExternalID         string            `json:"externalId,omitempty"`
}

// summaryJSON is the PodIdentityAssociationSummary shape of ListPodIdentityAssociations (no role).
type summaryJSON struct {
	ClusterName    string `json:"clusterName"`
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
	AssociationArn string `json:"associationArn"`
	AssociationID  string `json:"associationId"`
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (a *PodIdentityAssociation) wire() associationJSON {
	tags := a.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return associationJSON{ClusterName: a.ClusterName, Namespace: a.Namespace, ServiceAccount: a.ServiceAccount,
		RoleArn: a.RoleARN, AssociationArn: a.AssociationARN, AssociationID: a.AssociationID, Tags: tags,
		CreatedAt: epoch(a.CreatedAt), ModifiedAt: epoch(a.ModifiedAt), DisableSessionTags: a.DisableSessionTags,
		TargetRoleArn: a.TargetRoleARN, ExternalID: a.ExternalID}
}

// associationID is "a-" and 17 lower-case letters and digits, as EKS makes them.
func associationID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 17)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "a-" + string(b)
}

var (
	roleARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\x21-\x7f]*/)?([\w+=,.@-]+)$`)
	k8sNamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
)

type createAssociationInput struct {
	Namespace          *string           `json:"namespace"`
	ServiceAccount     *string           `json:"serviceAccount"`
	RoleArn            *string           `json:"roleArn"`
	ClientRequestToken string            `json:"clientRequestToken"`
	Tags               map[string]string `json:"tags"`
	DisableSessionTags *bool             `json:"disableSessionTags"`
	TargetRoleArn      *string           `json:"targetRoleArn"`
}

func (e *EKSEmulator) createAssociation(ctx context.Context, cluster, clusterARN string, body []byte) (any, error) {
	var in createAssociationInput
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{http.StatusBadRequest, "InvalidRequestException", "Invalid request body: " + err.Error()}
	}
	for name, v := range map[string]*string{"namespace": in.Namespace, "serviceAccount": in.ServiceAccount, "roleArn": in.RoleArn} {
		if v == nil || *v == "" {
			return nil, invalidParameter(name + " is required.")
		}
	}
	ns, sa := *in.Namespace, *in.ServiceAccount
	if !k8sNamePattern.MatchString(ns) || len(ns) > 63 {
		return nil, invalidParameter("Namespace " + ns + " is invalid.")
	}
	if !k8sNamePattern.MatchString(sa) || len(sa) > 253 {
		return nil, invalidParameter("Service account " + sa + " is invalid.")
	}
	if len(in.Tags) > 50 {
		return nil, invalidParameter("Number of tags exceeds the limit of 50.")
	}
	if err := e.checkRole(ctx, *in.RoleArn, clusterARN); err != nil {
		return nil, err
	}
	target := ""
	if in.TargetRoleArn != nil && *in.TargetRoleArn != "" {
		target = *in.TargetRoleArn
		if !roleARNPattern.MatchString(target) {
			return nil, invalidParameter("Target role ARN " + target + " is invalid.")
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.associations {
		if a.ClusterARN == clusterARN && a.Namespace == ns && a.ServiceAccount == sa {
			return nil, &apiError{http.StatusConflict, "ResourceInUseException", "Association already exists: " + a.AssociationID}
		}
	}
	id := associationID()
	now := e.now().UTC()
	a := &PodIdentityAssociation{ClusterName: cluster, ClusterARN: clusterARN, Namespace: ns, ServiceAccount: sa,
		RoleARN: *in.RoleArn, AssociationID: id, AssociationARN: associationARN(clusterARN, id), Tags: in.Tags,
		CreatedAt: now, ModifiedAt: now, DisableSessionTags: in.DisableSessionTags != nil && *in.DisableSessionTags,
		TargetRoleARN: target}
	if target != "" {
		a.ExternalID = requestID()
	}
	e.associations = append(e.associations, a)
	return map[string]any{"association": a.wire()}, nil
}

// associationARN is arn:aws:eks:REGION:ACCOUNT:podidentityassociation/CLUSTER/ID.
func associationARN(clusterARN, id string) string {
	return strings.Replace(clusterARN, ":cluster/", ":podidentityassociation/", 1) + "/" + id
}

// checkRole reads the role from moto's IAM in the role's account and refuses it, as EKS does, unless its trust
// policy allows the service principal pods.eks.amazonaws.com both sts:AssumeRole and sts:TagSession.
func (e *EKSEmulator) checkRole(ctx context.Context, roleARN, clusterARN string) error {
	m := roleARNPattern.FindStringSubmatch(roleARN)
	if m == nil {
		return invalidParameter("Role ARN " + roleARN + " is invalid.")
	}
	doc, err := e.roleTrust(ctx, m[1], m[2])
	if err != nil {
		var nf *iamtypes.NoSuchEntityException
		if errors.As(err, &nf) {
			return invalidParameter("Role provided does not exist: " + roleARN)
		}
		return err
	}
	if !trustAllowsPods(doc, true) {
		return invalidParameter("Trust policy of the role provided is invalid. Follow the official documentation to resolve the issue.")
	}
	return nil
}

// roleTrust returns the role's trust policy document (URL-decoded), read in the role's account.
func (e *EKSEmulator) roleTrust(ctx context.Context, account, name string) (string, error) {
	creds, err := e.accounts.credentials(ctx, account)
	if err != nil {
		return "", err
	}
	client := iam.New(iam.Options{Region: Region, BaseEndpoint: aws.String(e.moto),
		Credentials: credentials.StaticCredentialsProvider{Value: creds}})
	out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return "", err
	}
	doc := aws.ToString(out.Role.AssumeRolePolicyDocument)
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	return doc, nil
}

// trustAllowsPods tells whether an Allow statement names the service principal pods.eks.amazonaws.com with
// sts:AssumeRole and (when tagSession) sts:TagSession. Conditions are not evaluated.
func trustAllowsPods(doc string, tagSession bool) bool {
	var policy struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &policy) != nil {
		return false
	}
	var statements []map[string]json.RawMessage
	if json.Unmarshal(policy.Statement, &statements) != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(policy.Statement, &one) != nil {
			return false
		}
		statements = []map[string]json.RawMessage{one}
	}
	for _, st := range statements {
		var effect string
		_ = json.Unmarshal(st["Effect"], &effect)
		if effect != "Allow" {
			continue
		}
		var principal struct {
			Service json.RawMessage
		}
		if json.Unmarshal(st["Principal"], &principal) != nil || !slices.Contains(stringOrList(principal.Service), "pods.eks.amazonaws.com") {
			continue
		}
		actions := stringOrList(st["Action"])
		if actionAllowed(actions, "sts:AssumeRole") && (!tagSession || actionAllowed(actions, "sts:TagSession")) {
			return true
		}
	}
	return false
}

func stringOrList(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var list []string
	_ = json.Unmarshal(raw, &list)
	return list
}

// actionAllowed matches IAM action patterns (case-insensitive, * and ? wildcards).
func actionAllowed(patterns []string, action string) bool {
	for _, p := range patterns {
		re := "^" + strings.ReplaceAll(strings.ReplaceAll(regexp.QuoteMeta(strings.ToLower(p)), `\*`, ".*"), `\?`, ".") + "$"
		if ok, _ := regexp.MatchString(re, strings.ToLower(action)); ok {
			return true
		}
	}
	return false
}

func (e *EKSEmulator) find(clusterARN, id string) (*PodIdentityAssociation, error) {
	for _, a := range e.associations {
		if a.ClusterARN == clusterARN && a.AssociationID == id {
			return a, nil
		}
	}
	return nil, notFound("No Pod Identity Association found for id: " + id + ".")
}

func (e *EKSEmulator) describeAssociation(clusterARN, id string) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, err := e.find(clusterARN, id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"association": a.wire()}, nil
}

func (e *EKSEmulator) updateAssociation(ctx context.Context, clusterARN, id string, body []byte) (any, error) {
	var in createAssociationInput
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{http.StatusBadRequest, "InvalidRequestException", "Invalid request body: " + err.Error()}
	}
	e.mu.Lock()
	_, err := e.find(clusterARN, id)
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if in.RoleArn != nil && *in.RoleArn != "" {
		if err := e.checkRole(ctx, *in.RoleArn, clusterARN); err != nil {
			return nil, err
		}
	}
	if in.TargetRoleArn != nil && *in.TargetRoleArn != "" && !roleARNPattern.MatchString(*in.TargetRoleArn) {
		return nil, invalidParameter("Target role ARN " + *in.TargetRoleArn + " is invalid.")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	a, err := e.find(clusterARN, id)
	if err != nil {
		return nil, err
	}
	if in.RoleArn != nil && *in.RoleArn != "" {
		a.RoleARN = *in.RoleArn
	}
	if in.DisableSessionTags != nil {
		a.DisableSessionTags = *in.DisableSessionTags
	}
	if in.TargetRoleArn != nil {
		// An empty targetRoleArn removes the target role.
		a.TargetRoleARN = *in.TargetRoleArn
		a.ExternalID = ""
		if a.TargetRoleARN != "" {
			a.ExternalID = requestID()
		}
	}
	a.ModifiedAt = e.now().UTC()
	return map[string]any{"association": a.wire()}, nil
}

func (e *EKSEmulator) deleteAssociation(clusterARN, id string) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, err := e.find(clusterARN, id)
	if err != nil {
		return nil, err
	}
	e.associations = slices.DeleteFunc(e.associations, func(b *PodIdentityAssociation) bool { return b == a })
	return map[string]any{"association": a.wire()}, nil
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

type addonJSON struct {
	AddonName             string            `json:"addonName"`
	ClusterName           string            `json:"clusterName"`
	Status                string            `json:"status"`
	AddonVersion          string            `json:"addonVersion"`
	Health                map[string]any    `json:"health"`
	AddonArn              string            `json:"addonArn"`
	CreatedAt             float64           `json:"createdAt"`
	ModifiedAt            float64           `json:"modifiedAt"`
	ServiceAccountRoleArn string            `json:"serviceAccountRoleArn,omitempty"`
	Tags                  map[string]string `json:"tags"`
}

func (a *Addon) wire() addonJSON {
	tags := a.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return addonJSON{AddonName: a.Name, ClusterName: a.ClusterName, Status: "ACTIVE", AddonVersion: a.Version,
		Health: map[string]any{"issues": []any{}}, AddonArn: a.ARN, CreatedAt: epoch(a.CreatedAt),
		ModifiedAt: epoch(a.CreatedAt), ServiceAccountRoleArn: a.ServiceAccountRoleARN, Tags: tags}
}

func (e *EKSEmulator) createAddon(ctx context.Context, cluster, clusterARN string, body []byte) (any, error) {
	var in struct {
		AddonName             string            `json:"addonName"`
		AddonVersion          string            `json:"addonVersion"`
		ServiceAccountRoleArn string            `json:"serviceAccountRoleArn"`
		Tags                  map[string]string `json:"tags"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{http.StatusBadRequest, "InvalidRequestException", "Invalid request body: " + err.Error()}
	}
	if in.AddonName != PodIdentityAgentAddon {
		return nil, invalidParameter("Addon " + in.AddonName + " specified is not supported")
	}
	if in.AddonVersion == "" {
		in.AddonVersion = "v1.3.8-eksbuild.2"
	}
	e.mu.Lock()
	for _, a := range e.addons[clusterARN] {
		if a.Name == in.AddonName {
			e.mu.Unlock()
			return nil, &apiError{http.StatusConflict, "ResourceInUseException", "Addon already exists."}
		}
	}
	a := &Addon{Name: in.AddonName, Version: in.AddonVersion, ClusterName: cluster, ServiceAccountRoleARN: in.ServiceAccountRoleArn,
		Tags: in.Tags, CreatedAt: e.now().UTC(),
		ARN: strings.Replace(clusterARN, ":cluster/", ":addon/", 1) + "/" + in.AddonName + "/" + requestID()}
	e.addons[clusterARN] = append(e.addons[clusterARN], a)
	e.mu.Unlock()
	// The agent add-on runs as a DaemonSet in kube-system, as on EKS (its pods never run here: no kubelet).
	if e.kube != nil && clusterARN == fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, Account, ClusterName) {
		if err := e.createAgentDaemonSet(ctx, in.AddonVersion); err != nil {
			return nil, err
		}
	}
	return map[string]any{"addon": a.wire()}, nil
}

func (e *EKSEmulator) createAgentDaemonSet(ctx context.Context, version string) error {
	labels := map[string]string{"app.kubernetes.io/name": PodIdentityAgentAddon, "app.kubernetes.io/instance": PodIdentityAgentAddon}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: PodIdentityAgentAddon, Namespace: "kube-system", Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					HostNetwork: true,
					Containers: []corev1.Container{{
						Name:  "eks-pod-identity-agent",
						Image: "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/eks-pod-identity-agent:" + version,
						Args:  []string{"server", "--port", "80", "--cluster-name", ClusterName, "--probe-port", "2703"},
					}},
				},
			},
		},
	}
	_, err := e.kube.AppsV1().DaemonSets("kube-system").Create(ctx, ds, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (e *EKSEmulator) listAddons(clusterARN string, q url.Values, onePage bool) (any, error) {
	e.mu.Lock()
	var names []string
	for _, a := range e.addons[clusterARN] {
		names = append(names, a.Name)
	}
	e.mu.Unlock()
	got, next, err := page(names, q, onePage)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"addons": nonNil(got)}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (e *EKSEmulator) describeAddon(cluster, clusterARN, name string) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.addons[clusterARN] {
		if a.Name == name {
			return map[string]any{"addon": a.wire()}, nil
		}
	}
	return nil, notFound(fmt.Sprintf("No addon: %s found in cluster: %s", name, cluster))
}

func (e *EKSEmulator) deleteAddon(ctx context.Context, cluster, clusterARN, name string) (any, error) {
	e.mu.Lock()
	var found *Addon
	for _, a := range e.addons[clusterARN] {
		if a.Name == name {
			found = a
		}
	}
	if found == nil {
		e.mu.Unlock()
		return nil, notFound(fmt.Sprintf("No addon: %s found in cluster: %s", name, cluster))
	}
	e.addons[clusterARN] = slices.DeleteFunc(e.addons[clusterARN], func(a *Addon) bool { return a == found })
	e.mu.Unlock()
	if e.kube != nil && name == PodIdentityAgentAddon && clusterARN == fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, Account, ClusterName) {
		err := e.kube.AppsV1().DaemonSets("kube-system").Delete(ctx, PodIdentityAgentAddon, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	w := found.wire()
	w.Status = "DELETING"
	return map[string]any{"addon": w}, nil
}

func (e *EKSEmulator) listAccessEntries(clusterARN string, q url.Values, onePage bool) (any, error) {
	e.mu.Lock()
	entries := slices.Clone(e.accessEntries[clusterARN])
	e.mu.Unlock()
	got, next, err := page(entries, q, onePage)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"accessEntries": nonNil(got)}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}
