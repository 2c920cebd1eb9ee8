package enforce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// SessionOpener opens session tokens; *session.Keyring implements it.
type SessionOpener interface {
	Open(ctx context.Context, token string) (*session.Claims, error)
}

// SigningScope names the signing key of one access key for one credential scope.
type SigningScope struct {
	AccessKeyID  string
	SessionToken string // X-Amz-Security-Token, for temporary credentials
	Date         string // YYYYMMDD
	Region       string
	Service      string
}

// SigningContext is what a service needs to verify and decide one principal's requests
// itself: the derived signing key of its credential scope (never the secret), the principal
// as authentication establishes it, and the grants the enforcer would decide its requests
// with.
type SigningContext struct {
	Key       sigv4.SigningKey
	Principal principal.Principal
	// PrincipalARN is aws:PrincipalArn (the role's ARN for a role session); Caller is the
	// caller as resource policies match it.
	PrincipalARN string
	Caller       authz.Caller
	// Identity, Boundary and Session are the policy documents that apply, with their sources.
	Identity, Boundary, Session []PolicyDocument
	// SessionPolicies says the principal's requests are capped by its session policies (a
	// role session with some, or any federated user session), so an empty Session denies.
	SessionPolicies bool
	Tags            []store.Tag // aws:PrincipalTag/*
}

// PolicyDocument is one policy of a SigningContext.
type PolicyDocument struct {
	Source   authz.Source
	Document string
}

// MaxSigningDateAge is how old the scope date of a signing key may be: a presigned request is
// valid for up to a week after it was signed, with a day for time zones.
const MaxSigningDateAge = sigv4.MaxPresignExpires + 24*time.Hour

// SigningContext returns the signing context of scope: the access key's (or the session
// token's) secret derives the key, and the principal's grants are read as for a request.
// A key that does not exist or is inactive, a token that is not valid, does not name the key
// or whose user or role no longer exists are AWS's InvalidClientTokenId; an expired token is
// ExpiredToken. sessions opens session tokens (nil: none is valid). Each call records the
// key's use (at most once per KeyUseInterval), since a service asks on a client's request.
func (e *Enforcer) SigningContext(ctx context.Context, sessions SessionOpener, scope SigningScope) (*SigningContext, error) {
	if err := e.checkScope(scope); err != nil {
		return nil, err
	}
	var (
		p       *principal.Principal
		secret  string
		keyCred *Credential
	)
	if scope.SessionToken != "" || strings.HasPrefix(scope.AccessKeyID, session.TemporaryKeyPrefix) {
		claims, err := OpenSession(ctx, sessions, scope.AccessKeyID, scope.SessionToken)
		if err != nil {
			return nil, err
		}
		p, secret = &claims.Principal, claims.SecretAccessKey
	} else {
		cred, err := e.LookupAccessKey(ctx, scope.AccessKeyID)
		if errors.Is(err, ErrUnknownKey) {
			return nil, InvalidClientTokenID()
		}
		if err != nil {
			return nil, ServiceError(ctx, e.logger, "look up access key", err)
		}
		p, secret, keyCred = &cred.Principal, cred.Secret, cred
	}
	out := &SigningContext{Key: sigv4.DeriveSigningKey(secret, scope.Date, scope.Region, scope.Service), Principal: *p}
	out.Principal.AccessKeyID = scope.AccessKeyID
	out.PrincipalARN = p.ARN
	out.Caller = authz.Caller{Type: authz.PrincipalType(p.Type)}
	out.Caller.Account, out.Caller.ARN = p.Account, p.ARN
	if p.Type != principal.Root {
		gr, err := e.grantsFor(ctx, p)
		if err != nil {
			return nil, err
		}
		if gr.gone {
			// A session outlives nothing it came from (see server.authenticateSession).
			return nil, InvalidClientTokenID()
		}
		out.PrincipalARN, out.Caller, out.Tags = gr.principalARN, gr.caller, gr.tags
		out.Identity = documents(gr.identity)
		out.Boundary = documents(gr.boundary)
		out.Session = documents(gr.session)
		out.SessionPolicies = gr.session != nil
	}
	if keyCred != nil && e.KeyUseDue(keyCred) {
		if err := e.RecordKeyUse(ctx, p.Account, scope.AccessKeyID, scope.Service, scope.Region); err != nil {
			e.logger.WarnContext(ctx, "record access key use", slog.String("access_key_id", scope.AccessKeyID), slog.String("error", err.Error()))
		}
	}
	return out, nil
}

func (e *Enforcer) checkScope(s SigningScope) error {
	if s.AccessKeyID == "" {
		return awsquery.ValidationError("AccessKeyId is required.")
	}
	d, err := time.Parse("20060102", s.Date)
	if err != nil || len(s.Date) != 8 {
		return awsquery.ValidationError("Date must be the credential scope's date, YYYYMMDD; it is %q.", s.Date)
	}
	now := e.now().UTC()
	if d.After(now.Add(24*time.Hour)) || d.Before(now.Add(-MaxSigningDateAge)) {
		return awsquery.ValidationError("Date %s is not the date of a request signed within the last week.", s.Date)
	}
	for _, f := range []struct{ name, v string }{{"Region", s.Region}, {"Service", s.Service}} {
		if f.v == "" || strings.ContainsAny(f.v, "/ \t\n") || len(f.v) > 64 {
			return awsquery.ValidationError("%s must be a credential scope's %s, such as us-east-1 or orders; it is %q.", f.name, strings.ToLower(f.name), f.v)
		}
	}
	return nil
}

func documents(ps *authz.Policies) []PolicyDocument {
	if ps == nil {
		return nil
	}
	out := make([]PolicyDocument, ps.Set.Len())
	for i := range out {
		out[i] = PolicyDocument{Source: ps.Sources[i], Document: string(ps.Set.Policy(i).Document())}
	}
	return out
}

// OpenSession opens the session token of temporary credentials presented with accessKeyID:
// the token must be one this deployment sealed (sessions, nil: none is), not expired, and
// name accessKeyID. Its errors are AWS's: InvalidClientTokenId, ExpiredToken. Whether the
// session's user or role still exists is for the caller to check (SessionPrincipalExists).
func OpenSession(ctx context.Context, sessions SessionOpener, accessKeyID, token string) (*session.Claims, error) {
	if sessions == nil || token == "" {
		return nil, InvalidClientTokenID()
	}
	claims, err := sessions.Open(ctx, token)
	switch {
	case errors.Is(err, session.ErrExpired):
		return nil, ExpiredToken()
	case errors.Is(err, session.ErrInvalid):
		return nil, InvalidClientTokenID()
	case err != nil:
		return nil, fmt.Errorf("open session token: %w", err)
	}
	if claims.Principal.AccessKeyID != accessKeyID {
		// A genuine token presented with another access key id is not valid for it.
		return nil, InvalidClientTokenID()
	}
	return claims, nil
}

// InvalidClientTokenID is AWS's answer for an unknown access key or an invalid session token.
func InvalidClientTokenID() *awsquery.Error {
	e := sigv4.ErrInvalidClientTokenID()
	return &awsquery.Error{Code: e.Code, Message: e.Message, Status: e.Status, Sender: true}
}

// ExpiredToken is AWS's answer for an expired session token.
func ExpiredToken() *awsquery.Error {
	return awsquery.Errorf(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
}
