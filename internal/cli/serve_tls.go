package cli

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/server"
)

// tlsFlags registers serve's --tls-cert, --tls-key, --trusted-proxies and --services: how
// serve meets reverse proxies.
func tlsFlags(fs *flag.FlagSet, cfg *config.Config) {
	cfg.AuditRetention = config.DefaultAuditRetention
	fs.Func("audit-retention", "how long the audit trail keeps events (LookupEvents, last-accessed reports): a duration such as 2160h or 90d; 0 keeps them for ever (default 90d)", func(s string) error {
		d, err := parseDays(s)
		if err != nil {
			return err
		}
		cfg.AuditRetention = d
		return nil
	})
	fs.BoolVar(&cfg.Audit, "audit", false, "record the audit trail: every IAM and STS call and protected-service decision, for aws cloudtrail lookup-events, the last-accessed reports and gatehouse trail export")
	fs.StringVar(&cfg.ServicesFile, "services", "", "YAML or JSON file declaring the services Gatehouse protects behind reverse proxies (forward-auth at /forward-auth; see docs/protecting-services.md); reloaded when it changes")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate chain to serve HTTPS with (with --tls-key); reloaded on SIGHUP and when the file changes")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.Func("trusted-proxies", "comma-separated CIDRs (or addresses) of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto count for aws:SourceIp and aws:SecureTransport (default none: the headers are ignored)", func(s string) error {
		p, err := server.ParseTrustedProxies(s)
		if err != nil {
			return err
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, p...)
		return nil
	})
}

// warnPlaintext warns, in the log and in plain words on standard error, when plain HTTP is
// served on an address other machines can reach: SigV4 keeps secret keys off the wire, but
// session tokens, console passwords and every response (new secret access keys among them)
// would cross the network in clear.
func warnPlaintext(env Env, logger *slog.Logger, cfg config.Config, addr net.Addr) {
	if cfg.TLSCert != "" {
		return
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		return
	}
	logger.Warn("serving plain HTTP on a non-loopback address: credentials cross the network unencrypted",
		slog.String("address", addr.String()),
		slog.String("fix", "--tls-cert/--tls-key, or listen on loopback behind a TLS reverse proxy"))
	fmt.Fprintf(env.Stderr, `
WARNING: Gatehouse is serving plain HTTP on %s, which other machines can reach.
  Session tokens, console passwords and new secret access keys cross the network unencrypted.
  Serve HTTPS with --tls-cert and --tls-key, or listen on 127.0.0.1 behind a TLS reverse
  proxy on this machine (see docs/operations.md, "TLS and reverse proxies").

`, addr)
}

// parseDays is time.ParseDuration that also takes whole days ("90d").
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("%q is not a number of days such as 90d", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 2160h or 90d", s)
	}
	return d, nil
}
