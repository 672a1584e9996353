package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

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
