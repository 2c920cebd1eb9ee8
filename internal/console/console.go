// Package console serves the web console: people sign in with a password (and an MFA code)
// and manage IAM in a browser. Every page acts through the IAM API with the signed-in
// identity's own temporary credentials, over the same handler that serves aws-sdk and CLI
// requests, so the console has exactly the API's permissions and shows AWS's AccessDenied
// messages. Pages are server-rendered html/template with embedded assets; one small script
// (validation as you type in the policy editors) enhances them and nothing needs it.
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/iam"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the console is served.
const Prefix = "/console"

// Authenticator verifies the passwords and MFA codes of IAM users and root users, and
// enables the root user's MFA device, which AWS allows only from the console (iam.Service).
type Authenticator interface {
	SignInWithPassword(ctx context.Context, in iam.PasswordSignIn) (*iam.SignedIn, error)
	SignInRoot(ctx context.Context, in iam.RootSignIn) (*iam.SignedIn, error)
	AccountForSignIn(ctx context.Context, idOrAlias string) (string, bool, error)
	EnableRootMFADevice(ctx context.Context, account, serialNumber, code1, code2 string) error
}

// Issuer makes temporary credentials for a principal (session.Keyring).
type Issuer interface {
	Issue(ctx context.Context, p *principal.Principal, minTokenSize int) (session.Credentials, error)
}

// Options are the console's dependencies and limits.
type Options struct {
	// API serves the IAM and STS Query API; the console's calls go to it in memory.
	API     http.Handler
	Auth    Authenticator
	Issuer  Issuer
	Now     func() time.Time
	Logger  *slog.Logger
	Limits  Limits
	Account func(ctx context.Context, id string) (alias string, err error) // the account's alias, "" when none
	SignIns SignInObserver                                                 // told each sign-in's outcome; nil: nobody
	Trail   SignInTrail                                                    // told each sign-in, for the audit trail; nil: nobody
	// Store keeps the console sessions and pending MFA sign-ins (KindSession,
	// KindPendingSignIn), so every node sharing it serves every session; Box (the master
	// key's) seals their secrets. Both are required.
	Store store.Store
	Box   *secret.Box
}

// Limits bound a console session. AWS's console signs IAM users out after 12 hours; the idle
// limit is Gatehouse's choice, as AWS documents none for IAM users.
type Limits struct {
	Idle, Absolute time.Duration
}

// The default limits: one hour idle, twelve hours in all.
const (
	defaultIdle     = time.Hour
	defaultAbsolute = 12 * time.Hour
)

// Console is the web console's HTTP handler.
type Console struct {
	opts     Options
	ref      *servicedata.Reference // actions and access levels, for the policy pages
	pages    map[string]*template.Template
	sessions *sessions
	mux      *http.ServeMux
}

// New returns the console.
func New(opts Options) (*Console, error) {
	if opts.Limits == (Limits{}) {
		opts.Limits = Limits{Idle: defaultIdle, Absolute: defaultAbsolute}
	}
	if opts.Store == nil || opts.Box == nil {
		return nil, errors.New("console: Options.Store and Options.Box are required")
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	ref, err := servicedata.Load()
	if err != nil {
		return nil, fmt.Errorf("console: service reference: %w", err)
	}
	c := &Console{opts: opts, ref: ref, pages: pages, sessions: &sessions{store: opts.Store, box: opts.Box, now: opts.Now, lim: opts.Limits, logger: opts.Logger}, mux: http.NewServeMux()}
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static")
	c.mux.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET "+Prefix, c.signInPage)
	c.mux.HandleFunc("GET "+Prefix+"/{account}", c.signInPage)
	c.mux.HandleFunc("POST "+Prefix, c.signIn)
	c.mux.HandleFunc("POST "+Prefix+"/mfa", c.signInMFA)
	c.mux.HandleFunc("POST "+Prefix+"/iam/signout", c.signedAny(c.signOut))
	c.mux.HandleFunc("GET "+Prefix+"/iam/password", c.signedAny(c.changePasswordPage))
	c.mux.HandleFunc("POST "+Prefix+"/iam/password", c.signedAny(c.changePassword))
	c.mux.HandleFunc("GET "+Prefix+"/iam/", c.signed(c.dashboard))
	c.mux.HandleFunc("GET "+Prefix+"/iam/users", c.signed(c.usersPage))
	c.mux.HandleFunc("POST "+Prefix+"/iam/users", c.signed(c.createUser))
	c.mux.HandleFunc("GET "+Prefix+"/iam/users/{name}", c.signed(c.userPage))
	c.mux.HandleFunc("POST "+Prefix+"/iam/users/{name}/{action}", c.signed(c.userAction))
	c.mux.HandleFunc("POST "+Prefix+"/iam/keys.csv", c.signed(c.accessKeyCSV))
	c.mux.HandleFunc("GET "+Prefix+"/iam/security-credentials", c.signed(c.securityCredentials))
	c.mux.HandleFunc("POST "+Prefix+"/iam/security-credentials/mfa", c.signed(c.assignMFA))
	c.mux.HandleFunc("POST "+Prefix+"/iam/security-credentials/enable-mfa", c.signed(c.enableMFA))
	c.mux.HandleFunc("POST "+Prefix+"/iam/security-credentials/remove-mfa", c.signed(c.removeMFA))
	c.mux.HandleFunc("POST "+Prefix+"/iam/security-credentials/{action}", c.signed(c.userAction))
	c.mux.HandleFunc("POST "+Prefix+"/iam/users/{name}/mfa", c.signed(c.assignMFA))
	c.mux.HandleFunc("POST "+Prefix+"/iam/users/{name}/enable-mfa", c.signed(c.enableMFA))
	c.mux.HandleFunc("POST "+Prefix+"/iam/users/{name}/remove-mfa", c.signed(c.removeMFA))
	c.mux.HandleFunc("GET "+Prefix+"/iam/switch-role", c.signed(c.switchRolePage))
	c.mux.HandleFunc("POST "+Prefix+"/iam/switch-role", c.signed(c.switchRole))
	c.mux.HandleFunc("POST "+Prefix+"/iam/switch-back", c.signed(c.switchBack))
	c.mux.HandleFunc("POST "+Prefix+"/iam/credential-report", c.signed(c.credentialReport))
	c.mux.HandleFunc("GET "+Prefix+"/iam/groups", c.signed(c.groupsPage))
	c.mux.HandleFunc("POST "+Prefix+"/iam/groups", c.signed(c.createGroup))
	c.mux.HandleFunc("GET "+Prefix+"/iam/groups/{name}", c.signed(c.groupPage))
	c.mux.HandleFunc("POST "+Prefix+"/iam/groups/{name}/{action}", c.signed(c.groupAction))
	c.mux.HandleFunc("GET "+Prefix+"/iam/roles", c.signed(c.rolesPage))
	c.mux.HandleFunc("POST "+Prefix+"/iam/roles", c.signed(c.createRole))
	c.mux.HandleFunc("GET "+Prefix+"/iam/roles/{name}", c.signed(c.rolePage))
	c.mux.HandleFunc("POST "+Prefix+"/iam/roles/{name}/{action}", c.signed(c.roleAction))
	c.mux.HandleFunc("GET "+Prefix+"/iam/policies", c.signed(c.policiesPage))
	c.mux.HandleFunc("GET "+Prefix+"/iam/policy", c.signed(c.policyPage))
	c.mux.HandleFunc("GET "+Prefix+"/iam/policies/new", c.signed(c.newPolicyPage))
	c.mux.HandleFunc("POST "+Prefix+"/iam/policies/new", c.signed(c.createPolicy))
	c.mux.HandleFunc("POST "+Prefix+"/iam/policy/{action}", c.signed(c.policyAction))
	c.mux.HandleFunc("POST "+Prefix+"/iam/validate", c.signed(c.validate))
	c.mux.HandleFunc("GET "+Prefix+"/iam/simulator", c.signed(c.simulator))
	c.mux.HandleFunc("POST "+Prefix+"/iam/simulator", c.signed(c.simulator))
	c.mux.HandleFunc("GET "+Prefix+"/iam/account", c.signed(c.accountPage))
	c.mux.HandleFunc("POST "+Prefix+"/iam/account/{action}", c.signed(c.accountAction))
}

// ServeHTTP serves the console with the security headers every page carries: no framing, no
// inline script or style, nothing cached.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}
