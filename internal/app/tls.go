package app

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/tlsreload"
)

// loadTLS loads the configured certificate pair; nil without one.
func loadTLS(cfg config.Config, logger *slog.Logger) (*tlsreload.Reloader, error) {
	if cfg.TLSCert == "" && cfg.TLSKey == "" {
		return nil, nil
	}
	if cfg.TLSCert == "" || cfg.TLSKey == "" {
		return nil, errors.New("--tls-cert and --tls-key go together: give both (a PEM certificate chain and its private key) or neither")
	}
	return tlsreload.New(cfg.TLSCert, cfg.TLSKey, logger)
}

// serveFunc prepares srv to serve on ln and returns the call that does. Every request first
// has its client resolved (server.ClientAddress), so the API and the console see the same
// address and transport. With a certificate configured srv speaks HTTPS (TLS 1.2 at least,
// HTTP/2 offered), reloading the pair on SIGHUP and when the files change until ctx is done.
// Under TLS, a header section over the limit gets net/http's plain 431: the XML answer of
// server.Listener needs to see the connection's plaintext.
func (a *App) serveFunc(ctx context.Context, srv *http.Server, h *server.Server, ln net.Listener) func() error {
	srv.Handler = server.ClientAddress(a.cfg.TrustedProxies, srv.Handler)
	r := a.tls
	if r != nil {
		srv.TLSConfig = r.Config()
		leaf := r.Certificate()
		a.logger.InfoContext(ctx, "serving HTTPS", slog.String("subject", leaf.Subject.String()), slog.Time("not_after", leaf.NotAfter))
	}
	return func() error {
		// SIGHUP is taken even without a certificate, so that a reload (systemctl reload)
		// does not end the process as Go's default would.
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		watchCtx, stop := context.WithCancel(ctx)
		defer stop()
		if r == nil {
			go a.ignoreReloads(watchCtx, hup)
			return srv.Serve(h.Listener(ln))
		}
		go r.Run(watchCtx, tlsreload.DefaultInterval, hup)
		return srv.ServeTLS(ln, "", "")
	}
}

// ignoreReloads answers SIGHUP when there is nothing to reload.
func (a *App) ignoreReloads(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			a.logger.InfoContext(ctx, "SIGHUP: nothing to reload without --tls-cert")
		}
	}
}
