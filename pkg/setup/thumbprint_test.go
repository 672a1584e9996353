package setup

import (
	"context"
	"crypto/sha1" //nolint:gosec // the IAM thumbprint is SHA-1
	"crypto/x509"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestTLSThumbprint(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	got, err := tlsThumbprint(context.Background(), srv.URL+"/id/X", roots)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(srv.Certificate().Raw) //nolint:gosec
	if want := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("thumbprint %s, want %s", got, want)
	}
	if _, err := TLSThumbprint(context.Background(), srv.URL); err == nil {
		t.Error("thumbprint taken from a certificate the system roots do not trust")
	}
	if _, err := TLSThumbprint(context.Background(), "https://does-not-resolve.invalid/id/X"); err == nil {
		t.Error("unresolvable issuer gave a thumbprint")
	}
}
