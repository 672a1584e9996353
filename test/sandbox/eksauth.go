package sandbox

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// PodIdentityAudience is the audience of the ServiceAccount tokens EKS Auth accepts.
const PodIdentityAudience = "pods.eks.amazonaws.com"

// tokenClaims are the claims of a Kubernetes ServiceAccount token that EKS Auth reads.
type tokenClaims struct {
	Issuer    string          `json:"iss"`
	Subject   string          `json:"sub"`
	Audience  json.RawMessage `json:"aud"`
	Expiry    int64           `json:"exp"`
	NotBefore int64           `json:"nbf,omitempty"`
	IssuedAt  int64           `json:"iat,omitempty"`
	K8s       *struct {
		Namespace      string   `json:"namespace"`
		ServiceAccount *k8sName `json:"serviceaccount,omitempty"`
		Pod            *k8sName `json:"pod,omitempty"`
	} `json:"kubernetes.io,omitempty"`
}

type k8sName struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

var jwtPattern = regexp.MustCompile(`^[A-Za-z0-9-_=]+\.[A-Za-z0-9-_=]+\.[A-Za-z0-9-_=]+$`)

// verifyToken checks an RS256 ServiceAccount token's signature against the sandbox's service-account key, its
// issuer, audience and validity period.
func (e *EKSEmulator) verifyToken(token, clusterARN string) (*tokenClaims, error) {
	auth := e.cluster(clusterARN)
	invalid := func(msg string) error { return &apiError{http.StatusBadRequest, "InvalidTokenException", msg} }
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, invalid("The token is not a valid JWT.")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(rawHeader, &header) != nil {
		return nil, invalid("The token header cannot be parsed.")
	}
	if header.Alg != "RS256" {
		return nil, invalid("The token signing algorithm " + header.Alg + " is not supported.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, invalid("The token signature cannot be parsed.")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if auth.tokenKey == nil || rsa.VerifyPKCS1v15(auth.tokenKey, crypto.SHA256, digest[:], sig) != nil {
		return nil, invalid("The token signature is invalid.")
	}
	rawClaims, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c tokenClaims
	if err != nil || json.Unmarshal(rawClaims, &c) != nil {
		return nil, invalid("The token claims cannot be parsed.")
	}
	if c.Issuer != auth.issuer {
		return nil, invalid("The token issuer " + c.Issuer + " is not the cluster's issuer.")
	}
	now := e.now().Unix()
	if c.Expiry == 0 || now >= c.Expiry {
		return nil, &apiError{http.StatusBadRequest, "ExpiredTokenException", "The token is expired."}
	}
	if c.NotBefore != 0 && now < c.NotBefore-60 {
		return nil, invalid("The token is not valid yet.")
	}
	if !slices.Contains(stringOrList(c.Audience), PodIdentityAudience) {
		return nil, invalid("The token audience is invalid: it must be " + PodIdentityAudience + ".")
	}
	if !strings.HasPrefix(c.Subject, "system:serviceaccount:") || strings.Count(c.Subject, ":") != 3 {
		return nil, invalid("The token subject " + c.Subject + " is not a service account.")
	}
	return &c, nil
}

// assumeRoleForPodIdentity is EKS Auth's AssumeRoleForPodIdentity: verify the token, find the association of its
// ServiceAccount, check the role's trust (moto's STS checks none) and take the role's credentials from moto's STS
// with EKS's session tags (unless the association disables them), chaining into the target role when one is set.
func (e *EKSEmulator) assumeRoleForPodIdentity(r *http.Request, cluster string, body []byte) (any, error) {
	if r.Header.Get("Authorization") == "" {
		return nil, &apiError{http.StatusBadRequest, "AccessDeniedException", "The request is not signed: AssumeRoleForPodIdentity needs credentials allowed eks-auth:AssumeRoleForPodIdentity."}
	}
	var in struct {
		Token *string `json:"token"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{http.StatusBadRequest, "InvalidRequestException", "Invalid request body: " + err.Error()}
	}
	if in.Token == nil || !jwtPattern.MatchString(*in.Token) {
		return nil, invalidParameter("1 validation error detected: Value at 'token' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9-_=]+\\.[A-Za-z0-9-_=]+\\.[A-Za-z0-9-_=]+")
	}
	clusterARN, err := e.clusterARN(r, cluster)
	if err != nil {
		return nil, err
	}
	claims, err := e.verifyToken(*in.Token, clusterARN)
	if err != nil {
		return nil, err
	}
	sub := strings.Split(claims.Subject, ":")
	ns, sa := sub[2], sub[3]
	e.mu.Lock()
	var assoc *PodIdentityAssociation
	for _, a := range e.associations {
		if a.ClusterARN == clusterARN && a.Namespace == ns && a.ServiceAccount == sa {
			c := a.clone()
			assoc = &c
		}
	}
	e.mu.Unlock()
	if assoc == nil {
		return nil, notFound(fmt.Sprintf("No Pod Identity Association found for service account %s in namespace %s of cluster %s.", sa, ns, cluster))
	}
	ctx := r.Context()
	m := roleARNPattern.FindStringSubmatch(assoc.RoleARN)
	doc, err := e.roleTrust(ctx, m[1], m[2])
	if err != nil || !trustAllowsPods(doc, !assoc.DisableSessionTags) {
		action := "sts:TagSession"
		if err != nil || !trustAllowsPods(doc, false) {
			action = "sts:AssumeRole"
		}
		return nil, &apiError{http.StatusBadRequest, "AccessDeniedException", fmt.Sprintf(
			"User: arn:aws:sts::%s:assumed-role/eks-pod-identity is not authorized to perform: %s on resource: %s", Account, action, assoc.RoleARN)}
	}
	podName, podUID := "", ""
	if claims.K8s != nil && claims.K8s.Pod != nil {
		podName, podUID = claims.K8s.Pod.Name, claims.K8s.Pod.UID
	}
	var tags []ststypes.Tag
	if !assoc.DisableSessionTags {
		for _, kv := range [][2]string{
			{"eks-cluster-arn", clusterARN}, {"eks-cluster-name", cluster},
			{"kubernetes-namespace", ns}, {"kubernetes-service-account", sa},
			{"kubernetes-pod-name", podName}, {"kubernetes-pod-uid", podUID},
		} {
			if kv[1] != "" {
				tags = append(tags, ststypes.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
			}
		}
	}
	session := "eks-" + cluster + "-" + podName + "-" + requestID()
	if podName == "" {
		session = "eks-" + cluster + "-" + sa + "-" + requestID()
	}
	session = sessionName(session)
	clusterAccount := strings.Split(clusterARN, ":")[4]
	creds, err := e.accounts.credentials(ctx, clusterAccount)
	if err != nil {
		return nil, err
	}
	out, err := e.assume(ctx, creds, assoc.RoleARN, session, tags, "", 21600)
	if err != nil {
		return nil, err
	}
	rec := PodIdentitySession{AssociationID: assoc.AssociationID, RoleARN: assoc.RoleARN, TargetRoleARN: assoc.TargetRoleARN, SessionName: session, Tags: map[string]string{}}
	for _, t := range tags {
		rec.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	e.mu.Lock()
	e.sessions = append(e.sessions, rec)
	e.mu.Unlock()
	if assoc.TargetRoleARN != "" {
		chained := aws.Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken)}
		// Role chaining: STS caps the chained session at one hour.
		if out, err = e.assume(ctx, chained, assoc.TargetRoleARN, session, tags, assoc.ExternalID, 3600); err != nil {
			return nil, err
		}
	}
	return map[string]any{
		"subject":  map[string]string{"namespace": ns, "serviceAccount": sa},
		"audience": PodIdentityAudience,
		"podIdentityAssociation": map[string]string{
			"associationArn": assoc.AssociationARN, "associationId": assoc.AssociationID,
		},
		"assumedRoleUser": map[string]string{
			"arn": aws.ToString(out.AssumedRoleUser.Arn), "assumeRoleId": aws.ToString(out.AssumedRoleUser.AssumedRoleId),
		},
		"credentials": map[string]any{
			"accessKeyId":     aws.ToString(out.Credentials.AccessKeyId),
			"secretAccessKey": aws.ToString(out.Credentials.SecretAccessKey),
			"sessionToken":    aws.ToString(out.Credentials.SessionToken),
			"expiration":      aws.ToTime(out.Credentials.Expiration).Unix(),
		},
	}, nil
}

// PodIdentitySession is one AssumeRoleForPodIdentity answered: the STS session the emulator opened.
type PodIdentitySession struct {
	AssociationID, RoleARN, TargetRoleARN string
	SessionName                           string
	// Tags are the session tags passed to sts:AssumeRole (none when the association disables them).
	Tags map[string]string
}

// Sessions returns the sessions opened by AssumeRoleForPodIdentity, oldest first (moto's STS keeps no session
// tags, so this is where tests read them).
func (e *EKSEmulator) Sessions() []PodIdentitySession {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.sessions)
}

// sessionName keeps the characters and length (64) STS allows in a role session name.
func sessionName(s string) string {
	s = regexp.MustCompile(`[^\w+=,.@-]`).ReplaceAllString(s, "-")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// assume calls moto's sts:AssumeRole; EKS Pod Identity credentials last six hours.
func (e *EKSEmulator) assume(ctx context.Context, creds aws.Credentials, roleARN, session string, tags []ststypes.Tag, externalID string, seconds int32) (*sts.AssumeRoleOutput, error) {
	client := sts.New(sts.Options{Region: Region, BaseEndpoint: aws.String(e.moto), Credentials: credentials.StaticCredentialsProvider{Value: creds}})
	in := &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String(session), Tags: tags, DurationSeconds: aws.Int32(seconds)}
	if externalID != "" {
		in.ExternalId = aws.String(externalID)
	}
	out, err := client.AssumeRole(ctx, in)
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, "AccessDeniedException", "Could not assume role " + roleARN + ": " + err.Error()}
	}
	return out, nil
}

// loadTokenKey reads the service-account signing key pair the sandbox generated.
func loadTokenKey(path string) (*rsa.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, errors.New("no PEM block in " + path)
	}
	return x509.ParsePKCS1PrivateKey(block.Bytes)
}

// TokenOptions describe a ServiceAccount token minted by MintToken.
type TokenOptions struct {
	Namespace, ServiceAccount string
	// Audience defaults to pods.eks.amazonaws.com.
	Audience string
	// Issuer defaults to the sandbox's issuer.
	Issuer string
	// Expiry is the token's exp; the zero value means one hour from now. A past time makes an expired token,
	// which kube-apiserver's TokenRequest cannot (its minimum lifetime is 10 minutes).
	Expiry time.Time
	// PodName and PodUID bind the token to a pod (the kubernetes.io pod claim).
	PodName, PodUID string
	// ForeignKey signs with a fresh key instead of the sandbox's: a token whose signature does not verify.
	ForeignKey bool
}

// MintToken signs a ServiceAccount token as kube-apiserver does (RS256, same key, same claims), for the cases a
// TokenRequest cannot produce: expired, foreign issuer, foreign key.
func (s *Sandbox) MintToken(o TokenOptions) (string, error) {
	key := s.tokenKey
	if o.ForeignKey {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return "", err
		}
	}
	if o.Audience == "" {
		o.Audience = PodIdentityAudience
	}
	if o.Issuer == "" {
		o.Issuer = s.Issuer
	}
	if o.Expiry.IsZero() {
		o.Expiry = time.Now().Add(time.Hour)
	}
	iat := earliest(time.Now(), o.Expiry.Add(-10*time.Minute))
	claims := map[string]any{
		"iss": o.Issuer, "sub": "system:serviceaccount:" + o.Namespace + ":" + o.ServiceAccount,
		"aud": []string{o.Audience}, "exp": o.Expiry.Unix(), "iat": iat.Unix(), "nbf": iat.Unix(),
	}
	k8s := map[string]any{"namespace": o.Namespace, "serviceaccount": map[string]string{"name": o.ServiceAccount, "uid": requestID()}}
	if o.PodName != "" {
		k8s["pod"] = map[string]string{"name": o.PodName, "uid": o.PodUID}
	}
	claims["kubernetes.io"] = k8s
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
