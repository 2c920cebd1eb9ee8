// Package tlsreload serves a certificate and key from files and reloads them when they change
// or on demand (SIGHUP), so a rotated certificate takes effect without a restart.
//
// Changes are found by polling the files' modification time and size every few seconds rather
// than by a stat on each handshake: a poll costs the same however busy the server is and keeps
// system calls off the handshake path, and a few seconds' delay is nothing beside a
// certificate's lifetime. A reload that fails (a missing file, a key that does not match the
// certificate, a pair caught half-written) keeps the certificate in use and logs a warning;
// the next change of either file is tried again.
package tlsreload

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often Run looks at the files.
const DefaultInterval = 3 * time.Second

// Reloader holds the current certificate for tls.Config.GetCertificate.
type Reloader struct {
	certFile, keyFile string
	logger            *slog.Logger
	cert              atomic.Pointer[tls.Certificate]

	mu   sync.Mutex // serializes reloads
	seen stamps     // the files as last tried, successfully or not
}

// stamps identify one version of the two files.
type stamps struct{ cert, key stamp }

type stamp struct {
	mod  time.Time
	size int64
}

// New loads the pair once; it fails when the pair cannot be used.
func New(certFile, keyFile string, logger *slog.Logger) (*Reloader, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("a TLS certificate needs both a certificate file and a key file")
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile, logger: logger}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Config returns a server configuration that presents the current certificate, TLS 1.2 at
// least, the minimum AWS's own API endpoints accept (AWS Security Blog, "TLS 1.2 is the
// minimum TLS protocol level for all AWS API endpoints").
func (r *Reloader) Config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}
}

// GetCertificate implements tls.Config.GetCertificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cert.Load(), nil
}

// Certificate returns the leaf certificate in use.
func (r *Reloader) Certificate() *x509.Certificate { return r.cert.Load().Leaf }

// Reload reads the pair now. On failure the certificate in use stays and the error says why.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, _ := r.stat()
	r.seen = st
	return r.load()
}

func (r *Reloader) load() error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	}
	// LoadX509KeyPair parses the leaf (Go 1.23+); check it is in its validity period so an
	// operator sees a wrong file at once rather than in clients' errors.
	if now := time.Now(); cert.Leaf != nil && now.After(cert.Leaf.NotAfter) {
		return fmt.Errorf("TLS certificate %s expired at %s", r.certFile, cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	r.cert.Store(&cert)
	return nil
}

func (r *Reloader) stat() (stamps, error) {
	c, err := os.Stat(r.certFile)
	if err != nil {
		return stamps{}, err
	}
	k, err := os.Stat(r.keyFile)
	if err != nil {
		return stamps{}, err
	}
	return stamps{stamp{c.ModTime(), c.Size()}, stamp{k.ModTime(), k.Size()}}, nil
}

// Check reloads the pair when either file changed since it was last tried. It reports
// whether it reloaded and the reload's error.
func (r *Reloader) Check() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, err := r.stat()
	if err != nil {
		// A file briefly missing during a rotation; tried again at the next look.
		return false, nil
	}
	if st == r.seen {
		return false, nil
	}
	r.seen = st
	return true, r.load()
}

// Run reloads the pair when the files change (looked at every interval) and whenever reload
// receives, until ctx is done. Each reload is logged; a failed one is a warning.
func (r *Reloader) Run(ctx context.Context, interval time.Duration, reload <-chan os.Signal) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload:
			r.report(ctx, "signal", r.Reload())
		case <-t.C:
			if changed, err := r.Check(); changed {
				r.report(ctx, "file change", err)
			}
		}
	}
}

func (r *Reloader) report(ctx context.Context, why string, err error) {
	if err != nil {
		r.logger.WarnContext(ctx, "TLS certificate not reloaded; the previous one stays in use",
			slog.String("trigger", why), slog.String("error", err.Error()))
		return
	}
	leaf := r.Certificate()
	r.logger.InfoContext(ctx, "TLS certificate reloaded", slog.String("trigger", why),
		slog.String("subject", leaf.Subject.String()), slog.Time("not_after", leaf.NotAfter))
}
