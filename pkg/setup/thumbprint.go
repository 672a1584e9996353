package setup

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
	"time"
)

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
