// Package testcerts makes throwaway credentials for tests, at test time:
// a TLS certificate authority with a server and a client certificate
// (PEM files), NKey users (seed files), and a NATS operator with an
// account whose users get JWT credentials files, plus the nats-server
// options that trust them.
//
// Everything is written under tb.TempDir() and fails the test on error.
// Nothing here is fit for production: keys are generated with no care for
// storage, and certificates are valid for a day.
package testcerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TLS is a certificate authority and two certificates it signed, as PEM
// files.
type TLS struct {
	// CAFile holds the authority's certificate.
	CAFile string
	// ServerCert and ServerKey: a server certificate for 127.0.0.1, ::1
	// and localhost.
	ServerCert, ServerKey string
	// ClientCert and ClientKey: a client certificate (CN "client").
	ClientCert, ClientKey string
	// ClientKeyPEM is the content of ClientKey, for tests that check it
	// does not leak.
	ClientKeyPEM string
}

// NewTLS creates a fresh authority and its server and client certificates
// in a new temporary directory. Two calls give unrelated authorities, for
// "wrong CA" tests.
func NewTLS(tb testing.TB) TLS {
	tb.Helper()
	dir := tb.TempDir()
	caKey := newKey(tb)
	caTmpl := template(tb, "busway test CA")
	caTmpl.IsCA = true
	caTmpl.BasicConstraintsValid = true
	caTmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatalf("testcerts: CA certificate: %v", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		tb.Fatalf("testcerts: CA certificate: %v", err)
	}
	t := TLS{CAFile: writePEM(tb, dir, "ca.pem", "CERTIFICATE", caDER)}

	srv := template(tb, "127.0.0.1")
	srv.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	srv.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	srv.DNSNames = []string{"localhost"}
	t.ServerCert, t.ServerKey, _ = issue(tb, dir, "server", srv, ca, caKey)

	cli := template(tb, "client")
	cli.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	t.ClientCert, t.ClientKey, t.ClientKeyPEM = issue(tb, dir, "client", cli, ca, caKey)
	return t
}

// newKey makes a P-256 key: quick to generate, accepted by crypto/tls.
func newKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("testcerts: key: %v", err)
	}
	return k
}

// template is a certificate template valid from an hour ago for a day.
func template(tb testing.TB, cn string) *x509.Certificate {
	tb.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		tb.Fatalf("testcerts: serial: %v", err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"busway tests"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
}

// issue signs tmpl with the CA and writes name-cert.pem and name-key.pem,
// returning their paths and the key's PEM text.
func issue(tb testing.TB, dir, name string, tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (cert, key, keyPEM string) {
	tb.Helper()
	k := newKey(tb)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
	if err != nil {
		tb.Fatalf("testcerts: %s certificate: %v", name, err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		tb.Fatalf("testcerts: %s key: %v", name, err)
	}
	cert = writePEM(tb, dir, name+"-cert.pem", "CERTIFICATE", der)
	key = writePEM(tb, dir, name+"-key.pem", "PRIVATE KEY", kder)
	return cert, key, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// writePEM writes one PEM block to dir/name (mode 0600) and returns the
// path.
func writePEM(tb testing.TB, dir, name, typ string, der []byte) string {
	tb.Helper()
	return WriteFile(tb, dir, name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// WriteFile writes data to dir/name with mode 0600 and returns the path.
func WriteFile(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		tb.Fatalf("testcerts: %v", err)
	}
	return p
}
