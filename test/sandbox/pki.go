package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pkiFiles are the paths of the keys and certificates made for one sandbox run.
type pkiFiles struct {
	caCert, serverCert, serverKey string
	saPrivate, saPublic           string
	// webhookCert and webhookKey serve the sandbox's admission webhook on 127.0.0.1, signed by the same CA.
	webhookCert, webhookKey string
}

// writePKI makes a CA, a kube-apiserver serving certificate for 127.0.0.1 and localhost, and the RSA key pair
// that signs ServiceAccount tokens.
func writePKI(dir string) (pkiFiles, error) {
	f := pkiFiles{
		caCert:     filepath.Join(dir, "ca.crt"),
		serverCert: filepath.Join(dir, "apiserver.crt"),
		serverKey:  filepath.Join(dir, "apiserver.key"),
		saPrivate:  filepath.Join(dir, "sa.key"),
		saPublic:   filepath.Join(dir, "sa.pub"),

		webhookCert: filepath.Join(dir, "webhook.crt"),
		webhookKey:  filepath.Join(dir, "webhook.key"),
	}
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return f, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kubectl-irsa-sandbox-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return f, err
	}
	serverKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return f, err
	}
	serverTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default.svc"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return f, err
	}
	serverDER, err := x509.CreateCertificate(rand.Reader, serverTmpl, caCert, &serverKey.PublicKey, caKey)
	if err != nil {
		return f, err
	}
	webhookKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return f, err
	}
	webhookTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject:      pkix.Name{CommonName: "pod-identity-webhook"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	webhookDER, err := x509.CreateCertificate(rand.Reader, webhookTmpl, caCert, &webhookKey.PublicKey, caKey)
	if err != nil {
		return f, err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return f, err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return f, err
	}
	files := []struct {
		path, kind string
		der        []byte
	}{
		{f.caCert, "CERTIFICATE", caDER},
		{f.serverCert, "CERTIFICATE", serverDER},
		{f.serverKey, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(serverKey)},
		{f.saPrivate, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey)},
		{f.saPublic, "PUBLIC KEY", saPub},
		{f.webhookCert, "CERTIFICATE", webhookDER},
		{f.webhookKey, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(webhookKey)},
	}
	for _, file := range files {
		data := pem.EncodeToMemory(&pem.Block{Type: file.kind, Bytes: file.der})
		if err := os.WriteFile(file.path, data, 0o600); err != nil {
			return f, err
		}
	}
	return f, nil
}

// randomToken returns a random bearer token for the sandbox's admin user.
func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
