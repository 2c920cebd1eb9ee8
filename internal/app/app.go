// Package app is Gatehouse's one wiring point: configuration -> master key -> store -> services
// -> HTTP server (the API, and the web console under /console). The CLI and the end-to-end tests both build a server through it.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/audit"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/console"
	"github.com/gatehouse-iam/gatehouse/internal/decision"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/forwardauth"
	"github.com/gatehouse-iam/gatehouse/internal/iam"
	"github.com/gatehouse-iam/gatehouse/internal/respolicy"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/services"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/postgres"
	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-iam/gatehouse/internal/sts"
	"github.com/gatehouse-iam/gatehouse/internal/tlsreload"
)

// App is an opened Gatehouse deployment: its store and services.
type App struct {
	cfg    config.Config
	logger *slog.Logger
	store  backend
	obs    *observability      // metrics, the timed store, the admin listener (admin.go)
	tls    *tlsreload.Reloader // the certificate pair when serving HTTPS, loaded by Open (tls.go)
	// protected are the services of --services, for forward-auth; nil without the flag.
	protected *services.File
	// trail records the audit trail (audit.go); nil when it is off.
	trail *audit.Recorder
	IAM   *iam.Service
	// Enforcer looks up credentials and decides requests for IAM, STS and the server; its
	// caches are dropped when another node writes (fleet.go).
	Enforcer *enforce.Enforcer
	box      *secret.Box // the master key's, for the console's sessions
	// Sessions seals and opens session tokens under the deployment's server keys.
	Sessions *session.Keyring
}

// ErrNoDeployment is returned by Open when cfg.MustExist is set and the data directory holds
// no database.
var ErrNoDeployment = errors.New("no Gatehouse deployment")

// Open creates the data directory when missing (unless cfg.MustExist), loads the master key and
// opens the store.
func Open(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// A pair that cannot be used is refused before anything listens.
	certs, err := loadTLS(cfg, logger)
	if err != nil {
		return nil, err
	}
	var protected *services.File
	if cfg.ServicesFile != "" {
		// A file that does not parse is refused before anything listens.
		if protected, err = services.Open(cfg.ServicesFile, logger); err != nil {
			return nil, err
		}
	}
	if err := checkDeployment(cfg); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	key, err := masterKey(cfg)
	if err != nil {
		return nil, err
	}
	box, err := secret.NewBox(key)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	// Server keys are loaded on first use; they rotate daily (session.DefaultRotateAfter).
	obs := newObservability(st)
	sessions := session.NewKeyring(obs.store, box, time.Now, logger, session.Options{})
	enf := enforce.New(obs.store, box, time.Now, logger).WithDenialEncoder(sessions)
	svc := iam.New(obs.store, box, time.Now, iam.RandomIDs{}, logger, enf)
	if log, ok := st.(store.EventLog); ok {
		svc.WithEventLog(log) // the trail behind the last-accessed reports
	}
	obs.metrics.WatchCaches(enf.CacheStats)
	if err := svc.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	a := &App{
		cfg:       cfg,
		logger:    logger,
		store:     st,
		IAM:       svc,
		Enforcer:  enf,
		box:       box,
		Sessions:  sessions,
		obs:       obs,
		tls:       certs,
		protected: protected,
	}
	a.trail = a.newTrail(cfg)
	return a, nil
}

func masterKey(cfg config.Config) ([]byte, error) {
	if cfg.MasterKey != "" {
		k, err := secret.ParseKey(cfg.MasterKey)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", config.EnvMasterKey, err)
		}
		return k, nil
	}
	k, err := secret.LoadOrCreateKeyFile(cfg.MasterKeyPath())
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return k, nil
}

// backend is what the App needs of a store beyond store.Store: export, readiness and metrics.
type backend interface {
	store.Store
	store.Dumper
	SchemaVersion(ctx context.Context) (current, known int, err error)
	ObserveBatches(fn func(requests int))
}

// openStore opens the deployment's database: PostgreSQL when cfg names one, else the SQLite file
// in the data directory.
func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (backend, error) {
	if !cfg.PostgreSQL() {
		st, err := sqlite.Open(ctx, cfg.DatabasePath(), logger)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return st, nil
	}
	st, err := postgres.Open(ctx, cfg.DatabaseURL, logger, postgres.Options{NoMigrate: cfg.NoMigrate, MustExist: cfg.MustExist})
	if errors.Is(err, postgres.ErrNoSchema) {
		return nil, fmt.Errorf("%w in %s", ErrNoDeployment, postgres.Redact(cfg.DatabaseURL))
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return st, nil
}

// checkDeployment refuses, when cfg.MustExist, a data directory without a database, naming
// the directory as an absolute path so a command run from the wrong folder says where it looked.
func checkDeployment(cfg config.Config) error {
	if !cfg.MustExist || cfg.PostgreSQL() {
		return nil
	}
	_, err := os.Stat(cfg.DatabasePath())
	if err == nil {
		return nil
	}
	dir, absErr := filepath.Abs(cfg.DataDir)
	if absErr != nil {
		dir = cfg.DataDir
	}
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w in %s (no %s)", ErrNoDeployment, dir, config.DatabaseFile)
	}
	return fmt.Errorf("data directory %s: %w", dir, err)
}

// Close releases the store.
func (a *App) Close() error { return a.store.Close() }

// Bootstrap creates the first account when the deployment has none, from the configured
// credentials or generated ones. It returns the new account's credentials and true, or false
// when accounts already exist. Generated credentials are written to the root credentials file
// (mode 0600) so they are not lost with the terminal.
func (a *App) Bootstrap(ctx context.Context) (config.Credentials, bool, error) {
	want := a.cfg.Bootstrap
	c, created, err := a.IAM.CreateFirstAccount(ctx, iam.AccountCredentials{AccountID: want.AccountID, AccessKeyID: want.AccessKeyID, SecretAccessKey: want.SecretAccessKey})
	if err != nil {
		return config.Credentials{}, false, fmt.Errorf("create first account: %w", err)
	}
	if !created {
		return config.Credentials{}, false, nil
	}
	creds := config.Credentials{AccountID: c.AccountID, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
	if want.SecretAccessKey == "" {
		if err := writeCredentialsFile(a.cfg.RootCredentialsPath(), creds); err != nil {
			return creds, true, err
		}
	}
	return creds, true, nil
}

func writeCredentialsFile(path string, c config.Credentials) error {
	data, err := json.MarshalIndent(CredentialsJSON(c), "", "  ")
	if err != nil {
		return fmt.Errorf("encode root credentials: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write root credentials: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write root credentials: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write root credentials: %w", err)
	}
	return f.Close()
}

// CredentialsJSON is the JSON form of account credentials that `account create --output json`
// prints and the root credentials file holds.
func CredentialsJSON(c config.Credentials) any {
	return struct {
		AccountID       string `json:"AccountId"`
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string `json:"SecretAccessKey"`
	}{c.AccountID, c.AccessKeyID, c.SecretAccessKey}
}

// Handler builds the HTTP handler serving IAM and STS.
func (a *App) Handler() (*server.Server, error) {
	services, err := a.Services()
	if err != nil {
		return nil, err
	}
	srv := server.New(sessionCredentials{a.Enforcer, a.Sessions}, a.IAM, sigv4.NewVerifier(time.Now), a.logger, services...).WithObserver(a.obs.metrics)
	if a.trail != nil {
		srv.WithTrail(a.trail)
	}
	decisions := &decision.Service{Auth: srv, Enforcer: a.Enforcer, Services: a.protected.Current, Sessions: a.Sessions}
	policies := &respolicy.Service{Store: a.obs.store, Caches: a.Enforcer, Services: a.protected.Current, Now: time.Now}
	return srv.WithJSON(a.Enforcer, append([]*server.JSONService{decisions.JSON(), policies.JSON()}, a.cloudTrailAPI()...)...), nil
}

// Services returns the IAM and STS APIs with their operations registered, IAM first.
func (a *App) Services() ([]*awsquery.Service, error) {
	iamSvc, err := awsquery.NewService("IAM", "iam")
	if err != nil {
		return nil, err
	}
	if err := a.IAM.Register(iamSvc); err != nil {
		return nil, err
	}
	stsSvc, err := awsquery.NewService("STS", "sts")
	if err != nil {
		return nil, err
	}
	if err := sts.New(a.obs.store, a.IAM, a.Enforcer, a.Sessions, time.Now, a.logger, sts.Options{DialIDP: a.cfg.DialIDP}).Register(stsSvc); err != nil {
		return nil, err
	}
	return []*awsquery.Service{iamSvc, stsSvc}, nil
}

// sessionCredentials authenticates requests with long-term access keys (enforce.Enforcer) and
// with temporary credentials (the session token, opened by the keyring without a store read).
type sessionCredentials struct {
	*enforce.Enforcer
	sessions *session.Keyring
}

// OpenSession implements server.SessionCredentials.
func (c sessionCredentials) OpenSession(ctx context.Context, token string) (*session.Claims, error) {
	return c.sessions.Open(ctx, token)
}

// routes serves the web console under /console, forward-auth under /forward-auth and the IAM
// and STS API everywhere else.
func (a *App) routes(api *server.Server) (http.Handler, error) {
	c, err := console.New(console.Options{API: api, Auth: a.IAM, Issuer: a.Sessions, Now: time.Now, Logger: a.logger, Account: a.IAM.AccountAlias, SignIns: a.obs.metrics,
		Store: a.obs.store, Box: a.box, Trail: a.signInTrail()})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, c)
	mux.Handle(console.Prefix+"/", c)
	fa := &forwardauth.Handler{Services: a.protected.Current, Auth: api, Authz: a.Enforcer, Facts: server.RequestFacts, Logger: a.logger, Decided: a.recordDecision}
	mux.Handle(forwardauth.Prefix, fa)
	mux.Handle(forwardauth.Prefix+"/", fa)
	mux.Handle("/", api)
	return mux, nil
}

// Serve answers requests on ln until ctx is done, then shuts down gracefully: it stops
// accepting, lets requests in flight finish (for up to shutdownGrace) and returns.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	h, err := a.Handler()
	if err != nil {
		return err
	}
	routed, err := a.routes(h)
	if err != nil {
		return err
	}
	if err := a.startAdmin(ctx); err != nil {
		return err
	}
	a.watchChanges(ctx)
	if a.protected != nil {
		go a.protected.Run(ctx, services.DefaultInterval)
	}
	srv := &http.Server{
		Handler:           routed,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    server.MaxHeaderBytes - 4096, // net/http reads 4096 bytes more before it refuses
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// The trail outlives the server: the requests that finish during the graceful shutdown
	// are recorded too.
	trailCtx, stopTrail := context.WithCancel(context.WithoutCancel(ctx))
	trailDone := a.runTrail(trailCtx)
	defer func() { stopTrail(); <-trailDone }()
	serve := a.serveFunc(ctx, srv, h, ln)
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

const shutdownGrace = 10 * time.Second

// CreateAccount creates a further account; empty fields of want are generated.
func (a *App) CreateAccount(ctx context.Context, want config.Credentials) (config.Credentials, error) {
	c, err := a.IAM.CreateAccount(ctx, iam.AccountCredentials{AccountID: want.AccountID, AccessKeyID: want.AccessKeyID, SecretAccessKey: want.SecretAccessKey})
	if err != nil {
		return config.Credentials{}, err
	}
	return config.Credentials{AccountID: c.AccountID, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}, nil
}
