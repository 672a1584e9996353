package irsa

import (
	"context"
	"crypto/sha1" //nolint:gosec // IAM OIDC thumbprints are SHA-1 by definition.
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// ProviderState is the IAM OIDC provider as found, and what it lacks.
type ProviderState struct {
	Provider trust.Provider
	Exists   bool
	// MissingClientID is an audience the provider does not list yet.
	MissingClientID string
}

// LookupProvider reads the provider for an issuer in an account (one GetOpenIDConnectProvider call).
func LookupProvider(ctx context.Context, client IAMAPI, partition, account, issuer, audience string) (ProviderState, error) {
	st := ProviderState{Provider: trust.NewProvider(partition, account, issuer)}
	out, err := client.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(st.Provider.ARN)})
	switch {
	case IsNotFound(err):
		return st, nil
	case err != nil:
		return st, fmt.Errorf("iam:GetOpenIDConnectProvider %s: %w", st.Provider.ARN, AWSError(err))
	}
	st.Exists = true
	if !slices.Contains(out.ClientIDList, audience) {
		st.MissingClientID = audience
	}
	return st, nil
}

// CreateProvider creates the IAM OIDC provider with client ID audience, tagged as ours, with a thumbprint when
// one is given (IAM fetches and verifies the issuer's certificate itself when it is left out).
func CreateProvider(ctx context.Context, client IAMAPI, issuer, audience, thumbprint string) error {
	in := &iam.CreateOpenIDConnectProviderInput{
		Url:          aws.String(issuer),
		ClientIDList: []string{audience},
		Tags:         managedTags(trust.HostPath(issuer)),
	}
	if thumbprint != "" {
		in.ThumbprintList = []string{thumbprint}
	}
	if _, err := client.CreateOpenIDConnectProvider(ctx, in); err != nil {
		return fmt.Errorf("iam:CreateOpenIDConnectProvider %s: %w", issuer, AWSError(err))
	}
	return nil
}

// Thumbprinter returns the IAM thumbprint of an issuer's TLS chain, or an error when it cannot be reached.
type Thumbprinter func(ctx context.Context, issuer string) (string, error)

// TLSThumbprint connects to the issuer and returns the SHA-1 fingerprint of the last certificate the server
// presents (the top intermediate or root CA), as IAM expects. The chain must verify against the system roots,
// so a thumbprint is never taken from a man in the middle. The host is resolved first, so an issuer that does
// not resolve fails fast without a connection attempt.
func TLSThumbprint(ctx context.Context, issuer string) (string, error) {
	return tlsThumbprint(ctx, issuer, nil)
}

// tlsThumbprint is TLSThumbprint with the roots to verify against (nil: the system's).
func tlsThumbprint(ctx context.Context, issuer string, roots *x509.CertPool) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("issuer %q is not a URL", issuer)
	}
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = "443"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := net.DefaultResolver.LookupHost(ctx, host); err != nil {
		return "", fmt.Errorf("issuer host %s does not resolve", host)
	}
	dialer := &tls.Dialer{Config: &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, RootCAs: roots}}
	conn, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return "", fmt.Errorf("issuer %s is not reachable over TLS: %w", issuer, err)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "", errors.New("issuer presented no certificate")
	}
	sum := sha1.Sum(certs[len(certs)-1].Raw) //nolint:gosec
	return hex.EncodeToString(sum[:]), nil
}

// Tags kubectl irsa puts on what it creates, so list, unlink and audit can tell its roles apart.
const (
	ManagedByTagKey   = "kubectl-irsa.io/managed-by"
	ManagedByTagValue = "kubectl-irsa"
	IssuerTagKey      = "kubectl-irsa.io/issuer"
)

func managedTags(issuerHostPath string) []iamtypes.Tag {
	return []iamtypes.Tag{
		{Key: aws.String(ManagedByTagKey), Value: aws.String(ManagedByTagValue)},
		{Key: aws.String(IssuerTagKey), Value: aws.String(issuerHostPath)},
	}
}

func isManaged(tags []iamtypes.Tag) bool {
	return slices.ContainsFunc(tags, func(t iamtypes.Tag) bool {
		return aws.ToString(t.Key) == ManagedByTagKey && aws.ToString(t.Value) == ManagedByTagValue
	})
}

// DeleteProvider deletes an IAM OIDC provider (used to roll back one this run created).
func DeleteProvider(ctx context.Context, client IAMAPI, providerARN string) error {
	_, err := client.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN)})
	return err
}

// AddClientID adds an audience to an existing provider's client IDs.
func AddClientID(ctx context.Context, client IAMAPI, providerARN, clientID string) error {
	if _, err := client.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: aws.String(providerARN), ClientID: aws.String(clientID),
	}); err != nil {
		return fmt.Errorf("iam:AddClientIDToOpenIDConnectProvider %s: %w", providerARN, AWSError(err))
	}
	return nil
}
