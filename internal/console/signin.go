package console

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	iamsvc "github.com/gatehouse-iam/gatehouse/internal/iam"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
)

// signInForm is what the sign-in and MFA pages show again after a failure.
type signInForm struct {
	Account, UserName string
	Root              bool
	Pending           string // the MFA step's token
}

// preToken returns the browser's pre-session CSRF token, setting a new one when it has none.
func preToken(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(preCookie); err == nil && ck.Value != "" {
		return ck.Value
	}
	t := randomToken()
	setCookie(w, r, preCookie, t, 0)
	return t
}

// signInPage is the sign-in form; /console/ACCOUNT_OR_ALIAS fills in the account.
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	cs, err := c.current(r)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	if cs != nil {
		http.Redirect(w, r, Prefix+"/iam/", http.StatusSeeOther)
		return
	}
	c.render(w, http.StatusOK, "signin", page{Title: "Sign in", CSRF: preToken(w, r), Data: signInForm{Account: r.PathValue("account")}})
}

// signIn checks the account, user name and password. One answer covers an unknown account,
// an unknown user and a wrong password, so nobody learns which names exist.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	form := signInForm{Account: strings.TrimSpace(r.PostFormValue("account")), UserName: strings.TrimSpace(r.PostFormValue("username")), Root: r.PostFormValue("root") == "on"}
	if !c.checkPre(w, r) {
		return
	}
	c.attempt(w, r, form, r.PostFormValue("password"), "")
}

// signInMFA checks the code of the MFA step.
func (c *Console) signInMFA(w http.ResponseWriter, r *http.Request) {
	if !c.checkPre(w, r) {
		return
	}
	p, err := c.sessions.takePending(r.Context(), r.PostFormValue("pending"))
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	if p == nil {
		c.render(w, http.StatusUnauthorized, "signin", page{Title: "Sign in", CSRF: preToken(w, r), Error: "The sign-in took too long. Please sign in again."})
		return
	}
	form := signInForm{Account: p.Account, UserName: p.UserName, Root: p.UserName == ""}
	c.attempt(w, r, form, p.Password, strings.TrimSpace(r.PostFormValue("code")))
}

func (c *Console) checkPre(w http.ResponseWriter, r *http.Request) bool {
	ck, err := r.Cookie(preCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), ck.Value) {
		c.render(w, http.StatusForbidden, "signin", page{Title: "Sign in", CSRF: preToken(w, r), Error: "The form expired. Please sign in again."})
		return false
	}
	return true
}

// attempt signs in with the password (and code), then starts the console session, the MFA
// step, or the forced password change.
func (c *Console) attempt(w http.ResponseWriter, r *http.Request, form signInForm, password, code string) {
	ctx := r.Context()
	fail := func(status int, msg string) {
		c.render(w, status, "signin", page{Title: "Sign in", CSRF: preToken(w, r), Error: msg, Data: form})
	}
	source := sourceIP(r)
	account, ok, err := c.opts.Auth.AccountForSignIn(ctx, form.Account)
	if err != nil {
		c.opts.Logger.ErrorContext(ctx, "console: sign-in", "error", err)
		fail(http.StatusInternalServerError, "Sign-in is not available right now. Please try again.")
		return
	}
	if !ok {
		// No such account: sign in to none (not a 12-digit id, so no account can have it),
		// which fails like a wrong password, at the cost of one password hash.
		account = "unknown-account"
	}
	var signed *iamsvc.SignedIn
	if form.Root {
		signed, err = c.opts.Auth.SignInRoot(ctx, iamsvc.RootSignIn{Account: account, Password: password, MFACode: code, SourceIP: source})
	} else {
		signed, err = c.opts.Auth.SignInWithPassword(ctx, iamsvc.PasswordSignIn{Account: account, UserName: form.UserName, Password: password, MFACode: code, SourceIP: source})
	}
	var se *iamsvc.SignInError
	switch {
	case errors.As(err, &se) && se.Reason == iamsvc.SignInMFARequired:
		if form.Pending, err = c.sessions.addPending(ctx, &pendingSignIn{Account: account, UserName: userNameOf(form), Password: password, Expires: c.opts.Now().Add(pendingMFATime)}); err != nil {
			c.opts.Logger.ErrorContext(ctx, "console: sign-in", "error", err)
			fail(http.StatusServiceUnavailable, "Sign-in is not available right now. Please try again.")
			return
		}
		c.render(w, http.StatusOK, "mfa", page{Title: "Multi-factor authentication", CSRF: preToken(w, r), Data: form})
		return
	case errors.As(err, &se):
		c.opts.Logger.InfoContext(ctx, "console sign-in refused", "account", account, "user", userNameOf(form), "reason", string(se.Reason), "source", source)
		c.signInObserved(string(se.Reason))
		attempt := SignInAttempt{UserName: userNameOf(form), Root: form.Root}
		if ok {
			attempt.Account = account
		}
		c.signInRecorded(r, attempt)
		fail(http.StatusUnauthorized, se.Message())
		return
	case err != nil:
		c.opts.Logger.ErrorContext(ctx, "console: sign-in", "error", err)
		fail(http.StatusInternalServerError, "Sign-in is not available right now. Please try again.")
		return
	}
	cs, err := c.startSession(r, account, signed)
	if err != nil {
		c.opts.Logger.ErrorContext(ctx, "console: session", "error", err)
		fail(http.StatusInternalServerError, "Sign-in is not available right now. Please try again.")
		return
	}
	token, err := c.sessions.add(ctx, cs)
	if err != nil {
		c.opts.Logger.ErrorContext(ctx, "console: session", "error", err)
		fail(http.StatusServiceUnavailable, "Sign-in is not available right now. Please try again.")
		return
	}
	setCookie(w, r, sessionCookie, token, 0)
	c.opts.Logger.InfoContext(ctx, "console sign-in", "caller", cs.ARN, "mfa", signed.MFA, "source", source)
	c.signInObserved("success")
	c.signInRecorded(r, SignInAttempt{Account: account, UserName: userNameOf(form), Root: form.Root, ARN: cs.ARN, UserID: signed.UserID, Success: true, MFA: signed.MFA})
	if cs.MustChangePassword {
		http.Redirect(w, r, Prefix+"/iam/password", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, Prefix+"/iam/", http.StatusSeeOther)
}

func userNameOf(f signInForm) string {
	if f.Root {
		return ""
	}
	return f.UserName
}

// startSession issues the console session's temporary credentials: a session of the user
// (or root) itself, with MFA when a code was verified, ending at the absolute limit.
func (c *Console) startSession(r *http.Request, account string, s *iamsvc.SignedIn) (*consoleSession, error) {
	now := c.opts.Now().UTC().Truncate(time.Second)
	sess := &principal.Session{IssuedAt: now, Expires: now.Add(c.opts.Limits.Absolute), MFA: s.MFA, Console: true}
	if s.MFA {
		sess.MFAAt = now
	}
	p := &principal.Principal{Account: account, ARN: s.ARN, Session: sess}
	if s.UserName == "" {
		p.Type, p.UserID = principal.Root, account
	} else {
		p.Type, p.UserID, p.UserName = principal.User, s.UserID, s.UserName
		sess.UserID = s.UserID
	}
	creds, err := c.opts.Issuer.Issue(r.Context(), p, 0)
	if err != nil {
		return nil, err
	}
	alias := ""
	if c.opts.Account != nil {
		if alias, err = c.opts.Account(r.Context(), account); err != nil {
			return nil, err
		}
	}
	return &consoleSession{Account: account, Alias: alias, ARN: s.ARN, UserName: s.UserName, Creds: creds, CSRF: randomToken(),
		Created: now, Seen: now, MustChangePassword: s.PasswordResetRequired || s.PasswordExpired}, nil
}

// current is the request's live console session, or nil; an error means the store could not
// be read, which is not a sign-out.
func (c *Console) current(r *http.Request) (*consoleSession, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	return c.sessions.get(r.Context(), ck.Value)
}

// unavailable answers 503 when the store (the fleet's database) cannot be used: the person
// stays signed in and may retry.
func (c *Console) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	c.opts.Logger.ErrorContext(r.Context(), "console: store unavailable", "error", err)
	w.Header().Set("Retry-After", "5")
	http.Error(w, "The console is unavailable: its database cannot be reached right now. Please try again in a moment.", http.StatusServiceUnavailable)
}

// signedAny wraps a handler that needs a session (any session, also one that must change its
// password first) and checks the CSRF token of every POST.
func (c *Console) signedAny(h func(http.ResponseWriter, *http.Request, *consoleSession)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cs, err := c.current(r)
		if err != nil {
			c.unavailable(w, r, err)
			return
		}
		if cs == nil {
			http.Redirect(w, r, Prefix, http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !sameToken(r.PostFormValue("csrf"), cs.CSRF) {
			http.Error(w, "The form expired; reload the page and try again.", http.StatusForbidden)
			return
		}
		h(w, r.WithContext(withSource(r.Context(), r)), cs)
	}
}

// signed is signedAny for pages a session that must change its password cannot see yet.
func (c *Console) signed(h func(http.ResponseWriter, *http.Request, *consoleSession)) http.HandlerFunc {
	return c.signedAny(func(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
		if c.sessions.mustChange(cs) {
			http.Redirect(w, r, Prefix+"/iam/password", http.StatusSeeOther)
			return
		}
		h(w, r, cs)
	})
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if err := c.sessions.remove(r.Context(), ck.Value); err != nil {
			c.unavailable(w, r, err) // still signed in: the cookie is kept for a retry
			return
		}
	}
	setCookie(w, r, sessionCookie, "", -1)
	c.opts.Logger.InfoContext(r.Context(), "console sign-out", "caller", cs.ARN)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

// changePasswordPage is the user's own password change, forced after a reset or expiry.
func (c *Console) changePasswordPage(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	c.render(w, http.StatusOK, "password", c.passwordPage(r, cs, ""))
}

func (c *Console) passwordPage(r *http.Request, cs *consoleSession, msg string) page {
	p := page{Title: "Change password", S: cs, CSRF: cs.CSRF, Error: msg}
	if c.sessions.mustChange(cs) {
		p.Notice = "You must change your password before you continue."
	}
	// The rules, when the user may read them (AWS's page shows them).
	if out, err := c.iamClient(cs).GetAccountPasswordPolicy(r.Context(), &iam.GetAccountPasswordPolicyInput{}); err == nil {
		p.Data = out.PasswordPolicy
	}
	return p
}

func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	if cs.UserName == "" {
		c.render(w, http.StatusBadRequest, "password", c.passwordPage(r, cs, "The root user changes its password with gatehouse account set-root-password."))
		return
	}
	newPw := r.PostFormValue("new")
	if newPw != r.PostFormValue("confirm") {
		c.render(w, http.StatusBadRequest, "password", c.passwordPage(r, cs, "The new passwords do not match."))
		return
	}
	_, err := c.iamClient(cs).ChangePassword(r.Context(), &iam.ChangePasswordInput{OldPassword: aws.String(r.PostFormValue("old")), NewPassword: aws.String(newPw)})
	if err != nil {
		c.render(w, http.StatusBadRequest, "password", c.passwordPage(r, cs, apiMessage(err)))
		return
	}
	c.sessions.passwordChanged(r.Context(), cs)
	c.opts.Logger.InfoContext(r.Context(), "console password changed", "caller", cs.ARN)
	http.Redirect(w, r, Prefix+"/iam/", http.StatusSeeOther)
}

// sourceIP is the browser's address without the port.
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// SignInObserver is told the outcome of each console sign-in, for the metrics: "success" or
// the iam.SignInFailure reason (a fixed set; never the account or user name).
type SignInObserver interface {
	SignIn(outcome string)
}

func (c *Console) signInObserved(outcome string) {
	if c.opts.SignIns != nil {
		c.opts.SignIns.SignIn(outcome)
	}
}

// SignInTrail is told every console sign-in that succeeded or was refused, for the audit
// trail (CloudTrail's ConsoleLogin events).
type SignInTrail interface {
	RecordSignIn(ctx context.Context, a SignInAttempt)
}

// SignInAttempt is one console sign-in.
type SignInAttempt struct {
	Account  string // the account signed in to; "" when the form named none that exists
	UserName string // the IAM user's name as typed; "" for the root user
	Root     bool
	// ARN and UserID are the signed-in principal's; "" when the sign-in was refused.
	ARN, UserID string
	Success     bool
	MFA         bool // signed in with an MFA code
	SourceIP    string
	UserAgent   string
}

func (c *Console) signInRecorded(r *http.Request, a SignInAttempt) {
	if c.opts.Trail != nil {
		a.SourceIP, a.UserAgent = sourceIP(r), r.UserAgent()
		c.opts.Trail.RecordSignIn(r.Context(), a)
	}
}
