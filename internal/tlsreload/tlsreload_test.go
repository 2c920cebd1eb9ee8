package tlsreload

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/tlsreload/testcert"
)

type fixture struct {
	ca                *testcert.CA
	dir               string
	certFile, keyFile string
	bump              time.Duration
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ca, err := testcert.NewCA("tlsreload test CA")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ca: ca, dir: t.TempDir()}
	f.write(t, f.issue(t, "first"))
	return f
}

func (f *fixture) issue(t *testing.T, cn string) *testcert.Leaf {
	t.Helper()
	l, err := f.ca.Issue(cn, time.Time{}, time.Time{}, "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// write replaces the pair and moves both modification times forward, so a change is seen
// however coarse the file system's clock.
func (f *fixture) write(t *testing.T, l *testcert.Leaf) {
	t.Helper()
	f.writeFiles(t, l.CertPEM, l.KeyPEM)
}

func (f *fixture) writeFiles(t *testing.T, certPEM, keyPEM []byte) {
	t.Helper()
	f.certFile, f.keyFile = filepath.Join(f.dir, "cert.pem"), filepath.Join(f.dir, "key.pem")
	f.bump += time.Second
	for path, data := range map[string][]byte{f.certFile: certPEM, f.keyFile: keyPEM} {
		if data == nil {
			continue
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(f.bump)
		if err := os.Chtimes(path, at, at); err != nil {
			t.Fatal(err)
		}
	}
}

// served handshakes with a TLS server using r and returns the common name it presented.
func served(t *testing.T, r *Reloader, client *tls.Config) (string, error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", r.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_ = c.(*tls.Conn).Handshake()
		c.Close()
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), client)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
}

func logger(buf *syncBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(buf, nil)) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServesAndRotates(t *testing.T) {
	f := newFixture(t)
	r, err := New(f.certFile, f.keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cn, err := served(t, r, f.ca.ClientConfig())
	if err != nil || cn != "first" {
		t.Fatalf("handshake: %q, %v; want first", cn, err)
	}
	if changed, err := r.Check(); changed || err != nil {
		t.Fatalf("Check with unchanged files = %v, %v; want false, nil", changed, err)
	}
	f.write(t, f.issue(t, "second"))
	if changed, err := r.Check(); !changed || err != nil {
		t.Fatalf("Check after rotation = %v, %v; want true, nil", changed, err)
	}
	if cn, err := served(t, r, f.ca.ClientConfig()); err != nil || cn != "second" {
		t.Fatalf("after rotation: %q, %v; want second", cn, err)
	}
}

func TestFailedReloadKeepsCertificate(t *testing.T) {
	f := newFixture(t)
	r, err := New(f.certFile, f.keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	next := f.issue(t, "second")
	tests := []struct {
		name          string
		certPEM, keyP []byte
		wantErr       string
	}{
		// Half a rotation: the new certificate beside the old key.
		{"key does not match", next.CertPEM, nil, "private key does not match public key"},
		{"not PEM", []byte("garbage"), next.KeyPEM, "failed to find any PEM data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.writeFiles(t, tt.certPEM, tt.keyP)
			changed, err := r.Check()
			if !changed || err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Check = %v, %v; want true and an error containing %q", changed, err, tt.wantErr)
			}
			if cn, err := served(t, r, f.ca.ClientConfig()); err != nil || cn != "first" {
				t.Fatalf("after a failed reload: %q, %v; want first", cn, err)
			}
			// Unchanged files are not tried again at every look.
			if changed, _ := r.Check(); changed {
				t.Fatal("a failed pair was tried again without a change")
			}
		})
	}
	// The rest of the rotation arrives: the next look takes it.
	f.write(t, next)
	if changed, err := r.Check(); !changed || err != nil {
		t.Fatalf("Check after the rotation completed = %v, %v", changed, err)
	}
	if cn, _ := served(t, r, f.ca.ClientConfig()); cn != "second" {
		t.Fatalf("served %q, want second", cn)
	}
}

func TestNewRefuses(t *testing.T) {
	f := newFixture(t)
	expired, err := f.ca.Issue("old", time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	expiredDir := t.TempDir()
	expiredCert, expiredKey, err := expired.Write(expiredDir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, cert, key, wantErr string
	}{
		{"no key", f.certFile, "", "both a certificate file and a key file"},
		{"no certificate", "", f.keyFile, "both a certificate file and a key file"},
		{"missing file", filepath.Join(f.dir, "nope.pem"), f.keyFile, "no such file"},
		{"expired", expiredCert, expiredKey, "expired at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cert, tt.key, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New = %v; want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRefusesOldTLS(t *testing.T) {
	f := newFixture(t)
	r, err := New(f.certFile, f.keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	old := f.ca.ClientConfig()
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if _, err := served(t, r, old); err == nil {
		t.Fatal("a TLS 1.1 client completed a handshake")
	}
	tls12 := f.ca.ClientConfig()
	tls12.MaxVersion = tls.VersionTLS12
	if _, err := served(t, r, tls12); err != nil {
		t.Fatalf("TLS 1.2 client: %v", err)
	}
}

// run starts r.Run with interval and returns the signal channel and a wait for a condition.
func run(t *testing.T, r *Reloader, interval time.Duration, logs *syncBuffer) (chan<- os.Signal, func(string, func() bool)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	done := make(chan struct{})
	go func() { r.Run(ctx, interval, hup); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return hup, func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if ok() {
				return
			}
		}
		t.Fatalf("timed out waiting for %s; logs:\n%s", what, logs.String())
	}
}

func cnIs(r *Reloader, cn string) func() bool {
	return func() bool { return r.Certificate().Subject.CommonName == cn }
}

func TestRunPollsFiles(t *testing.T) {
	f := newFixture(t)
	var logs syncBuffer
	r, err := New(f.certFile, f.keyFile, logger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	_, waitFor := run(t, r, 20*time.Millisecond, &logs)

	f.write(t, f.issue(t, "polled"))
	waitFor("the file change", cnIs(r, "polled"))
	waitFor("the reload's log line", func() bool { return strings.Contains(logs.String(), `trigger="file change"`) })

	f.writeFiles(t, []byte("garbage"), nil)
	waitFor("the warning", func() bool {
		return strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "previous one stays in use")
	})
	if cn := r.Certificate().Subject.CommonName; cn != "polled" {
		t.Fatalf("after a failed reload the certificate is %q", cn)
	}
}

func TestRunReloadsOnSignal(t *testing.T) {
	f := newFixture(t)
	var logs syncBuffer
	r, err := New(f.certFile, f.keyFile, logger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	// Polling an hour apart: only the signal can reload within the test.
	hup, waitFor := run(t, r, time.Hour, &logs)
	f.write(t, f.issue(t, "signalled"))
	if cn := r.Certificate().Subject.CommonName; cn != "first" {
		t.Fatalf("reloaded before the signal: %q", cn)
	}
	hup <- syscall.SIGHUP
	waitFor("the signal", cnIs(r, "signalled"))
	waitFor("the reload's log line", func() bool { return strings.Contains(logs.String(), "trigger=signal") })
}
