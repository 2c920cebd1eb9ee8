package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/signal"
	"syscall"

	"github.com/gatehouse-iam/gatehouse/internal/app"
	"github.com/gatehouse-iam/gatehouse/internal/config"
)

func runServe(ctx context.Context, env Env, args []string) error {
	var cfg config.Config
	fs := newFlagSet(env, "serve [flags]", `Serves the AWS IAM (2010-05-08) and STS (2011-06-15) Query APIs on one endpoint.
State lives in an SQLite database in the data directory, or with --database (or
GATEHOUSE_DATABASE_URL) in PostgreSQL, where several nodes sharing one master key act as one IAM
(docs/operations.md, "A fleet on PostgreSQL"). It is created on first start together with
the first account and its root access key (from GATEHOUSE_ACCOUNT_ID,
GATEHOUSE_ROOT_ACCESS_KEY_ID and GATEHOUSE_ROOT_SECRET_ACCESS_KEY when set, otherwise generated,
printed once and written to root-credentials.json in the data directory, readable only by its
owner). Access key secrets are encrypted under the master key: GATEHOUSE_MASTER_KEY (64 hex
digits) or the file master.key in the data directory, created when missing.
SIGTERM or SIGINT stops the server gracefully.`)
	cfg.ServeFlags(fs)
	fs.StringVar(&cfg.AdminListen, "admin-listen", config.DefaultAdminListen, `address of the health and metrics listener (/healthz, /readyz, /metrics); "off" serves none`)
	fs.BoolVar(&cfg.Pprof, "pprof", false, "also serve Go's runtime profiles on the admin listener under /debug/pprof/ (for profiling under load; off by default)")
	logFormatFlag(fs, &cfg.LogFormat, "json")
	tlsFlags(fs, &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg.FromEnv(env.Getenv)
	logger := newLogger(env.Stderr, cfg.LogFormat, cfg.LogLevel)

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// Until Serve takes SIGHUP (to reload the TLS certificate), one must not end the process.
	signal.Ignore(syscall.SIGHUP)

	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	creds, created, err := a.Bootstrap(ctx)
	if err != nil {
		return err
	}
	if created {
		printFirstAccount(env, cfg, creds)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	logger.Info("gatehouse listening", slog.String("address", ln.Addr().String()), slog.String("data_dir", cfg.DataDir))
	warnPlaintext(env, logger, cfg, ln.Addr())
	// Also on standard output whatever the log level, for scripts that start it on port 0.
	fmt.Fprintf(env.Stdout, "Listening on %s\n", ln.Addr())
	if err := a.Serve(ctx, ln); err != nil {
		return err
	}
	logger.Info("gatehouse stopped")
	return nil
}

// printFirstAccount shows the first account's root key once, on standard output and never in
// a log line.
func printFirstAccount(env Env, cfg config.Config, c config.Credentials) {
	fmt.Fprintf(env.Stdout, "Created account %s with root access key %s.\n", c.AccountID, c.AccessKeyID)
	if cfg.Bootstrap.SecretAccessKey == "" {
		fmt.Fprintf(env.Stdout, "Root secret access key (shown once; also in %s):\n  %s\n", cfg.RootCredentialsPath(), c.SecretAccessKey)
	}
}
