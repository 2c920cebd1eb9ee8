package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Console sessions and pending MFA sign-ins live in the store (the deployment's database), so
// that every node of a fleet sharing it knows them and a restart signs nobody out. The browser
// holds a random token in an HttpOnly cookie; the record is keyed by the token's SHA-256, never
// the token, and everything in it but its times is sealed with the master key, bound to that
// key (session_store.go): a database dump reveals no credentials, password, CSRF token or key
// secret. Signing out deletes the record, so the session is revoked at once on every node.

const (
	sessionCookie = "gatehouse-console"
	// preCookie carries the sign-in form's CSRF token before there is a session.
	preCookie = "gatehouse-console-pre"
	// pendingMFATime is how long the MFA step waits for a code after the password was right.
	pendingMFATime = 5 * time.Minute
)

// consoleSession is one signed-in person, as one request read it from the store. Changes go
// through the sessions methods, which write them to the store and to this copy.
type consoleSession struct {
	key            string // the record's key: the hex SHA-256 of the cookie's token
	Account, Alias string
	ARN            string
	UserName       string // "" for the root user
	Creds          session.Credentials
	CSRF           string
	Created, Seen  time.Time
	// MustChangePassword keeps the person on the change-password page until it is done.
	MustChangePassword bool
	// Flash is the message of the last change, shown once by the page it redirected to (kept
	// here rather than in the URL, so nobody can craft a link that shows a false message).
	Flash string
	// Role is set after "Switch role": the console then acts as that role session.
	Role *roleSession
	// NewKey is a just-created access key whose secret can be downloaded once as CSV.
	NewKey *newKey
}

type newKey struct {
	ID, Secret, UserName string
	Shown                bool // the user's page showed the secret; only the CSV download is left
}

// pendingSignIn is a sign-in whose password was right, waiting for the MFA code. The password
// is kept (sealed, for pendingMFATime at most) because the check of the code is a new sign-in
// attempt with both.
type pendingSignIn struct {
	Account, UserName, Password string
	Expires                     time.Time `json:"-"` // kept in the clear beside the sealed rest
}

// sessions keeps console sessions and pending sign-ins in the store.
type sessions struct {
	store  store.Store
	box    *secret.Box
	now    func() time.Time
	lim    Limits
	logger *slog.Logger
}

// randomToken is 32 random bytes, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// key is what records are keyed by: the hash of the token, so the database (or a dump of it)
// holds no live token, and a lookup's timing reveals none.
func key(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// mustChange reports whether cs must change its password before anything else.
func (s *sessions) mustChange(cs *consoleSession) bool { return cs.MustChangePassword }

// snapshot is a copy of cs for a page to read, without the new key's secret.
func (s *sessions) snapshot(cs *consoleSession) *consoleSession {
	snap := *cs
	snap.NewKey = nil
	return &snap
}

// role is the role session the console acts as, or nil; an expired one is ignored (and stays
// in the record until "Back" or the session's end, harmlessly), so the console falls back to
// the signed-in identity.
func (s *sessions) role(cs *consoleSession, now time.Time) *roleSession {
	if cs.Role != nil && !now.Before(cs.Role.Creds.Expiration) {
		return nil
	}
	return cs.Role
}

// setCookie sets an HttpOnly, SameSite=Strict cookie scoped to the console, Secure when the
// browser's connection is TLS (directly, or to a trusted proxy).
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: server.SecureTransport(r), SameSite: http.SameSiteStrictMode})
}

// sameToken compares a form's CSRF token with the expected one in constant time.
func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
