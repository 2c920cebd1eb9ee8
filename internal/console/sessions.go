package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/session"
)

// A console session lives in this node's memory only: the browser holds a random id in an
// HttpOnly cookie, and the temporary credentials it stands for never leave the server.
// Signing out forgets them, so the session is revoked at once; a restart signs everyone out.
// (The fleet will keep them in the database.)

const (
	sessionCookie = "gatehouse-console"
	// preCookie carries the sign-in form's CSRF token before there is a session.
	preCookie = "gatehouse-console-pre"
	// pendingMFATime is how long the MFA step waits for a code after the password was right.
	pendingMFATime = 5 * time.Minute
)

// consoleSession is one signed-in person.
type consoleSession struct {
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
// is kept (in memory, for pendingMFATime at most) because the check of the code is a new
// sign-in attempt with both.
type pendingSignIn struct {
	Account, UserName, Password string
	Expires                     time.Time
}

type sessions struct {
	mu      sync.Mutex
	byID    map[string]*consoleSession
	pending map[string]*pendingSignIn
}

func newSessions() *sessions {
	return &sessions{byID: map[string]*consoleSession{}, pending: map[string]*pendingSignIn{}}
}

// randomToken is 32 random bytes, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// key is what the maps are keyed by: the hash of the cookie's token, so a memory dump or a
// timing difference of map lookups does not reveal live tokens.
func key(token string) string {
	h := sha256.Sum256([]byte(token))
	return string(h[:])
}

func (s *sessions) add(cs *consoleSession) string {
	token := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[key(token)] = cs
	return token
}

// get returns the live session of token and marks it seen, or nil when it is unknown or past
// its idle or absolute limit (then it is forgotten).
func (s *sessions) get(token string, now time.Time, lim Limits) *consoleSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(token)
	cs := s.byID[k]
	if cs == nil {
		return nil
	}
	if now.Sub(cs.Seen) > lim.Idle || now.Sub(cs.Created) > lim.Absolute || !now.Before(cs.Creds.Expiration) {
		delete(s.byID, k)
		return nil
	}
	cs.Seen = now
	return cs
}

func (s *sessions) remove(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, key(token))
}

func (s *sessions) addPending(p *pendingSignIn) string {
	token := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[key(token)] = p
	return token
}

// takePending returns and forgets the pending sign-in of token; nil when unknown or expired.
func (s *sessions) takePending(token string, now time.Time) *pendingSignIn {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(token)
	p := s.pending[k]
	delete(s.pending, k)
	if p == nil || now.After(p.Expires) {
		return nil
	}
	return p
}

// sweep forgets the sessions and pending sign-ins that ended.
func (s *sessions) sweep(now time.Time, lim Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, cs := range s.byID {
		if now.Sub(cs.Seen) > lim.Idle || now.Sub(cs.Created) > lim.Absolute || !now.Before(cs.Creds.Expiration) {
			delete(s.byID, k)
		}
	}
	for k, p := range s.pending {
		if now.After(p.Expires) {
			delete(s.pending, k)
		}
	}
}

// mustChange reports whether cs must change its password before anything else.
func (s *sessions) mustChange(cs *consoleSession) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cs.MustChangePassword
}

func (s *sessions) passwordChanged(cs *consoleSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs.MustChangePassword = false
}

// stashKey keeps a new access key's secret for one CSV download.
func (s *sessions) stashKey(cs *consoleSession, k *newKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs.NewKey = k
}

// showKey returns the stashed key of user the first time it is asked for, so its page shows
// the secret once, as AWS's console does; the key stays for its one CSV download.
func (s *sessions) showKey(cs *consoleSession, user string) *newKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := cs.NewKey
	if k == nil || k.Shown || k.UserName != user {
		return nil
	}
	k.Shown = true
	return &newKey{ID: k.ID, Secret: k.Secret, UserName: k.UserName}
}

// takeKey returns the stashed key and forgets it: the CSV is downloaded once.
func (s *sessions) takeKey(cs *consoleSession) *newKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := cs.NewKey
	cs.NewKey = nil
	return k
}

// snapshot is a copy of cs for a page to read while other requests of the session change it.
func (s *sessions) snapshot(cs *consoleSession) *consoleSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := *cs
	snap.NewKey = nil
	return &snap
}

func (s *sessions) setAlias(cs *consoleSession, alias string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs.Alias = alias
}

func (s *sessions) setRole(cs *consoleSession, r *roleSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs.Role = r
}

// role is the role session the console acts as, or nil; an expired one is dropped, so the
// console falls back to the signed-in identity.
func (s *sessions) role(cs *consoleSession, now time.Time) *roleSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs.Role != nil && !now.Before(cs.Role.Creds.Expiration) {
		cs.Role = nil
	}
	return cs.Role
}

func (s *sessions) setFlash(cs *consoleSession, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs.Flash = msg
}

func (s *sessions) takeFlash(cs *consoleSession) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := cs.Flash
	cs.Flash = ""
	return msg
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
