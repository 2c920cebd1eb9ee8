// Package config holds Gatehouse's settings and reads them from flags and the environment. It is
// the only place that looks at environment variables.
package config

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"time"
)

// Environment variables Gatehouse reads.
const (
	EnvAccountID       = "GATEHOUSE_ACCOUNT_ID"
	EnvRootAccessKeyID = "GATEHOUSE_ROOT_ACCESS_KEY_ID"
	EnvRootSecretKey   = "GATEHOUSE_ROOT_SECRET_ACCESS_KEY"
	EnvMasterKey       = "GATEHOUSE_MASTER_KEY"
	// EnvDatabaseURL is a postgres:// URL: the deployment lives in that PostgreSQL database
	// instead of the data directory's SQLite file (--database overrides it).
	EnvDatabaseURL = "GATEHOUSE_DATABASE_URL"
)

// Defaults.
const (
	DefaultListen  = "127.0.0.1:7400"
	DefaultDataDir = "./gatehouse-data"
	// DefaultAdminListen serves /healthz, /readyz and /metrics on loopback only.
	DefaultAdminListen = "127.0.0.1:7401"
	// AdminOff as --admin-listen serves no health and metrics listener.
	AdminOff = "off"
)

// Files inside the data directory.
const (
	DatabaseFile        = "gatehouse.db"
	MasterKeyFile       = "master.key"
	RootCredentialsFile = "root-credentials.json"
)

// Config is everything a Gatehouse process needs to open its state and serve.
type Config struct {
	Listen string
	// AdminListen is the health and metrics listener's address (DefaultAdminListen from the
	// serve flag); "" or AdminOff serves none.
	AdminListen string
	// Pprof also serves Go's runtime profiles under /debug/pprof/ on the admin listener, for
	// scripts/profile.sh: off by default, since profiles show the program's internals.
	Pprof   bool
	DataDir string
	// DatabaseURL, when set, keeps the deployment in PostgreSQL (postgres://...) instead of the
	// data directory's SQLite file; the data directory then holds only the master key file (when
	// GATEHOUSE_MASTER_KEY is not set) and the first account's generated credentials.
	DatabaseURL string
	// NoMigrate refuses a database whose schema is older than this program's instead of
	// upgrading it (PostgreSQL; for deployments that run `gatehouse migrate` as a step of its own).
	NoMigrate bool
	LogLevel  slog.Level
	// LogFormat is "json" or "text"; empty means the command's default.
	LogFormat string
	// MustExist refuses to open a data directory without a database instead of creating a new,
	// empty deployment there: set by the commands other than serve unless given --init, so a
	// command run in the wrong directory says so rather than starting a second deployment.
	MustExist bool
	// MasterKey is the master key as given in the environment; empty means the key file.
	MasterKey string
	// Bootstrap is the first account's id and root key; empty fields are generated.
	Bootstrap Credentials
	// DialIDP opens the connections that fetch OIDC discovery documents and key sets; nil
	// dials the address directly. Embedders (and tests, whose issuers cannot bind port 443
	// without privileges) route an issuer's host to where it really listens; TLS and the
	// thumbprint checks still apply.
	DialIDP func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSCert and TLSKey are PEM files (both or neither); with them Serve speaks HTTPS and
	// reloads the pair on SIGHUP or when the files change.
	TLSCert, TLSKey string
	// TrustedProxies are the peers whose X-Forwarded-For and X-Forwarded-Proto count for
	// aws:SourceIp and aws:SecureTransport; from any other peer those headers are ignored.
	TrustedProxies []netip.Prefix
	// ServicesFile declares the services Gatehouse protects besides IAM and STS (forward-auth;
	// internal/services); reloaded when it changes. Empty: none.
	ServicesFile string
	// AuditRetention is how long the audit trail keeps events; 0 keeps them for ever.
	AuditRetention time.Duration
	// Audit turns the audit trail on. It is off by default until recording an event costs a
	// small part of a request (docs/operations.md, "Audit trail").
	Audit bool
}

// DefaultAuditRetention is how long events stay in the audit trail unless told otherwise: 90
// days, as CloudTrail's event history keeps them.
const DefaultAuditRetention = 90 * 24 * time.Hour

// Credentials are an account id with its root access key.
type Credentials struct {
	AccountID       string
	AccessKeyID     string
	SecretAccessKey string
}

// DatabasePath is the SQLite file.
func (c *Config) DatabasePath() string { return filepath.Join(c.DataDir, DatabaseFile) }

// MasterKeyPath is the master key file, used when MasterKey is empty.
func (c *Config) MasterKeyPath() string { return filepath.Join(c.DataDir, MasterKeyFile) }

// RootCredentialsPath is where the first account's generated root key is written.
func (c *Config) RootCredentialsPath() string { return filepath.Join(c.DataDir, RootCredentialsFile) }

// FromEnv fills what the environment gives.
func (c *Config) FromEnv(getenv func(string) string) {
	c.MasterKey = getenv(EnvMasterKey)
	if c.DatabaseURL == "" {
		c.DatabaseURL = getenv(EnvDatabaseURL)
	}
	c.Bootstrap = Credentials{
		AccountID:       getenv(EnvAccountID),
		AccessKeyID:     getenv(EnvRootAccessKeyID),
		SecretAccessKey: getenv(EnvRootSecretKey),
	}
}

// DataDirFlag registers --data-dir on fs.
func (c *Config) DataDirFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", DefaultDataDir, "directory holding the database and the master key (serve creates it on first start)")
	fs.StringVar(&c.DatabaseURL, "database", "", "PostgreSQL URL (postgres://user:password@host/db) to keep the deployment in, for a fleet of nodes; default: the SQLite file in the data directory, or "+EnvDatabaseURL)
}

// PostgreSQL reports whether the deployment lives in PostgreSQL rather than SQLite.
func (c *Config) PostgreSQL() bool { return c.DatabaseURL != "" }

// ServeFlags registers the flags of `gatehouse serve` on fs.
func (c *Config) ServeFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", DefaultListen, "address to listen on (host:port)")
	c.DataDirFlag(fs)
	fs.BoolVar(&c.NoMigrate, "no-migrate", false, "refuse a PostgreSQL database whose schema is older than this version's instead of upgrading it (run gatehouse migrate first)")
	fs.Func("log-level", "log level: debug, info, warn or error (default info)", func(s string) error {
		return c.LogLevel.UnmarshalText([]byte(strings.ToLower(s)))
	})
}

// Validate reports settings that cannot work.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("--data-dir must not be empty")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("--database (or %s) must be a postgres:// or postgresql:// URL", EnvDatabaseURL)
	}
	return nil
}
