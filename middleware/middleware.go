package middleware

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gatehouse-iam/gatehouse/arn"
	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

// Defaults of Config.
const (
	DefaultCacheTTL     = time.Minute
	DefaultStaleTTL     = 5 * time.Minute
	DefaultMaxBodyBytes = 1 << 20
	// RetryInterval is how long the middleware waits, after Gatehouse could not be reached,
	// before it tries again; meanwhile it answers from its cache (or 503) at once.
	RetryInterval = time.Second
	// RefusedTTL is how long the middleware refuses, without asking Gatehouse again, the
	// credentials Gatehouse refused (an unknown or deleted key, an expired session): a client
	// that keeps retrying them costs Gatehouse one call each RefusedTTL. A key created just
	// after its first refused use works once it has passed.
	RefusedTTL = 5 * time.Second
)

// Config configures a Middleware.
type Config struct {
	// Endpoint is Gatehouse's URL, such as https://gatehouse.internal:8443.
	Endpoint string
	// Credentials are the service's own: allowed gatehouse:GetSigningContext and
	// gatehouse:Authorize. Wrapped in an aws.CredentialsCache unless they are one.
	Credentials aws.CredentialsProvider
	// Region, if set, is the service's region: signatures scoped to another region are
	// refused, as AWS's regional services refuse them, and the middleware signs its calls to
	// Gatehouse for it. Empty: any region (Gatehouse is called as us-east-1).
	Region string
	// Service is the signing name clients use for the service ("orders"); signatures scoped
	// to another service are refused.
	Service string
	// Routes maps a request whose signature verified to what it asks (required). It returns
	// ErrNoRoute for a request the service does not serve.
	Routes func(r *http.Request, caller *Identity) (Route, error)
	// HTTPClient calls Gatehouse; nil: a client with a 5-second timeout.
	HTTPClient *http.Client
	// CacheTTL bounds how long a signing context is used (default DefaultCacheTTL); the
	// MaxAge Gatehouse sends bounds it too.
	CacheTTL time.Duration
	// StaleTTL bounds how old a signing context may be and still serve its principal while
	// Gatehouse cannot be reached (default DefaultStaleTTL; never less than CacheTTL).
	StaleTTL time.Duration
	// MaxBodyBytes bounds the body the middleware reads to hash it, for a request whose client
	// signed its body without sending X-Amz-Content-Sha256 (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// SourceIP is aws:SourceIp of a request; nil: the host of r.RemoteAddr. Behind a proxy,
	// read the address the proxy reports, from proxies you trust only.
	SourceIP func(r *http.Request) string
	// SecureTransport is aws:SecureTransport; nil: r.TLS != nil.
	SecureTransport func(r *http.Request) bool
	// Logger logs Gatehouse's failures; nil: slog.Default().
	Logger *slog.Logger
	// Now is the clock (tests); nil: time.Now.
	Now func() time.Time
}

// Route is what a request asks of the service.
type Route struct {
	Action   string // "orders:GetOrder"
	Resource string // the resource's ARN; "" or "*" for an action without one
	// ResourceAccount owns the resource; "" is the caller's account.
	ResourceAccount string
	// Context are the request's condition keys (orders:Status, aws:RequestTag/...); a key
	// with several values is multivalued.
	Context map[string][]string
	// ResourcePolicy is the resource's policy document, if it has one: such requests are
	// decided by Gatehouse (Authorize), which evaluates it with the caller's policies.
	ResourcePolicy string
}

// ErrNoRoute is what Routes returns for a request the service does not serve; the client gets
// UnknownOperationException.
var ErrNoRoute = errors.New("middleware: no route matches the request")

// Identity is the caller of an allowed request.
type Identity struct {
	Arn         string
	Account     string
	UserId      string //nolint:revive // AWS's spelling
	UserName    string // IAM users (and their GetSessionToken sessions)
	Type        string // Account (the root user), User, AssumedRole or FederatedUser
	SessionName string // role sessions
	AccessKeyId string //nolint:revive // AWS's spelling
	// Region is the region of the request's signature.
	Region string
	// Action and Resource are what the request was allowed; empty while Routes runs.
	Action, Resource string
	// Remote reports a request decided by Gatehouse's Authorize rather than the local cache.
	Remote bool
}

type identityKey struct{}

// IdentityFrom returns the caller of the request whose context is ctx, for a handler wrapped
// by Middleware.Wrap.
func IdentityFrom(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(*Identity)
	return id, ok
}

// Middleware verifies and authorizes requests with Gatehouse. It is safe for concurrent use.
type Middleware struct {
	cfg      Config
	verifier *sigv4.Verifier
	now      func() time.Time
	logger   *slog.Logger
	client   *client
	cache    cache
	// denyFresh is how fresh the data behind a denial must be: CacheTTL, and no more than
	// Gatehouse's own cache bound (enforce.CacheTTL).
	denyFresh time.Duration
}

// New returns a Middleware for cfg.
func New(cfg Config) (*Middleware, error) {
	switch {
	case cfg.Endpoint == "":
		return nil, errors.New("middleware: Config.Endpoint is required")
	case cfg.Credentials == nil:
		return nil, errors.New("middleware: Config.Credentials is required")
	case cfg.Service == "":
		return nil, errors.New("middleware: Config.Service is required")
	case cfg.Routes == nil:
		return nil, errors.New("middleware: Config.Routes is required")
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.StaleTTL <= 0 {
		cfg.StaleTTL = DefaultStaleTTL
	}
	cfg.StaleTTL = max(cfg.StaleTTL, cfg.CacheTTL)
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if _, ok := cfg.Credentials.(*aws.CredentialsCache); !ok {
		cfg.Credentials = aws.NewCredentialsCache(cfg.Credentials)
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	m := &Middleware{cfg: cfg, verifier: sigv4.NewVerifier(cfg.Now), now: cfg.Now, logger: cfg.Logger, denyFresh: min(cfg.CacheTTL, enforce.CacheTTL)}
	m.client = &client{endpoint: strings.TrimRight(cfg.Endpoint, "/") + "/", creds: cfg.Credentials, region: region, http: cfg.HTTPClient, now: cfg.Now}
	m.cache.init(m)
	return m, nil
}

// Wrap returns next protected by m: next runs only for requests allowed, with the caller's
// Identity in the request's context.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := m.authorize(r)
		if err != nil {
			writeError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

// apiError is an answer in AWS's JSON protocol.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func unavailable() *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailableException",
		Message: "The service cannot authorize the request now: its authorization service is unreachable. Retry later."}
}

func writeError(w http.ResponseWriter, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = &apiError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: "The request could not be authorized."}
	}
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Code, e.Message})
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-Errortype", e.Code)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

func sigv4Error(err error) *apiError {
	var e *sigv4.Error
	if errors.As(err, &e) {
		return &apiError{Status: e.Status, Code: e.Code, Message: e.Message}
	}
	return errorf(http.StatusForbidden, sigv4.CodeSignatureDoesNotMatch, "%v", err)
}

// authorize verifies and decides r; it returns the caller or the error to answer.
func (m *Middleware) authorize(r *http.Request) (*Identity, error) {
	signed, payloadHash, err := m.parse(r)
	if err != nil {
		return nil, err
	}
	if signed.Service != m.cfg.Service {
		return nil, errorf(http.StatusForbidden, sigv4.CodeSignatureDoesNotMatch, "Credential should be scoped to correct service: '%s'.", m.cfg.Service)
	}
	if m.cfg.Region != "" && signed.Region != m.cfg.Region {
		return nil, errorf(http.StatusForbidden, sigv4.CodeSignatureDoesNotMatch, "Credential should be scoped to a valid region, not '%s'.", signed.Region)
	}
	k := scopeKey{accessKeyID: signed.AccessKeyID, token: signed.SessionToken, date: signed.Date(), region: signed.Region}
	now := m.now()
	e, err := m.cache.get(r.Context(), k, now, false)
	if err != nil {
		return nil, err
	}
	if e.remote {
		return m.remote(r, signed, payloadHash, nil, e.identity(signed.Region))
	}
	if err := signed.VerifyKey(&e.key); err != nil {
		return nil, sigv4Error(err)
	}
	if !e.expires.IsZero() && !now.Before(e.expires) {
		return nil, errorf(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
	}
	id := e.identity(signed.Region)
	route, err := m.cfg.Routes(r, id)
	if errors.Is(err, ErrNoRoute) {
		return nil, errorf(http.StatusBadRequest, "UnknownOperationException", "The service does not serve %s %s.", r.Method, r.URL.Path)
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "ValidationException", "%v", err)
	}
	if route.Action == "" {
		return nil, errorf(http.StatusInternalServerError, "InternalFailure", "The service's route for %s %s names no action.", r.Method, r.URL.Path)
	}
	if route.ResourcePolicy != "" {
		return m.remote(r, signed, payloadHash, &route, id)
	}
	var res *resEntry
	if isARN(route.Resource) {
		if res, err = m.cache.resourcePolicy(r.Context(), route.Resource, now, false); err != nil {
			return nil, err
		}
		if res.remote {
			return m.remote(r, signed, payloadHash, &route, id)
		}
	}
	facts := m.facts(r, signed.Region, now)
	allowed, msg := e.decide(&route, &facts, res)
	if !allowed && (now.Sub(e.fetched) >= m.denyFresh || res != nil && now.Sub(res.fetched) >= m.denyFresh) {
		// A denial comes only from data as fresh as Gatehouse's own: ask again.
		fresh, err := m.cache.get(r.Context(), k, now, now.Sub(e.fetched) >= m.denyFresh)
		if err != nil {
			return nil, err
		}
		if fresh.remote {
			return m.remote(r, signed, payloadHash, &route, fresh.identity(signed.Region))
		}
		if res != nil {
			if res, err = m.cache.resourcePolicy(r.Context(), route.Resource, now, now.Sub(res.fetched) >= m.denyFresh); err != nil {
				return nil, err
			}
			if res.remote {
				return m.remote(r, signed, payloadHash, &route, id)
			}
		}
		if now.Sub(fresh.fetched) >= m.denyFresh || res != nil && now.Sub(res.fetched) >= m.denyFresh {
			// Gatehouse could not be reached: old data may allow, never deny.
			return nil, unavailable()
		}
		e = fresh
		allowed, msg = e.decide(&route, &facts, res)
	}
	if !allowed {
		return nil, &apiError{Status: http.StatusForbidden, Code: "AccessDeniedException", Message: msg}
	}
	id.Action, id.Resource = route.Action, route.Resource
	if id.Resource == "" {
		id.Resource = "*"
	}
	return id, nil
}

// facts are what the global condition keys report about r.
func (m *Middleware) facts(r *http.Request, region string, now time.Time) enforce.RequestFacts {
	f := enforce.RequestFacts{UserAgent: r.Header.Get("User-Agent"), Region: region, Time: now}
	if m.cfg.SourceIP != nil {
		f.SourceIP = m.cfg.SourceIP(r)
	} else if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		f.SourceIP = host
	}
	if m.cfg.SecureTransport != nil {
		f.SecureTransport = m.cfg.SecureTransport(r)
	} else {
		f.SecureTransport = r.TLS != nil
	}
	return f
}

// parse parses r's signature with the payload hash the client signed: X-Amz-Content-Sha256
// when it sent one (a body is then checked against it as the handler reads it), else the
// hash of the body, which parse reads (up to MaxBodyBytes) and puts back.
func (m *Middleware) parse(r *http.Request) (*sigv4.Signed, string, error) {
	header := strings.TrimSpace(r.Header.Get("X-Amz-Content-Sha256"))
	hasBody := r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
	if header != "" || !hasBody {
		signed, err := m.verifier.ParsePayloadHash(r)
		if err != nil {
			return nil, "", sigv4Error(err)
		}
		if hasBody && header != "UNSIGNED-PAYLOAD" {
			want, err := hex.DecodeString(header)
			if err != nil || len(want) != sha256.Size {
				return nil, "", errorf(http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The X-Amz-Content-Sha256 header is not a SHA-256 in hex.")
			}
			r.Body = &checkedBody{r: r.Body, h: sha256.New(), want: want}
		}
		return signed, header, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, m.cfg.MaxBodyBytes+1))
	_ = r.Body.Close()
	if err != nil {
		return nil, "", errorf(http.StatusBadRequest, "ValidationException", "The request body could not be read.")
	}
	if int64(len(body)) > m.cfg.MaxBodyBytes {
		return nil, "", errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException", "The request body is larger than %d bytes.", m.cfg.MaxBodyBytes)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	signed, err := m.verifier.Parse(r, body)
	if err != nil {
		return nil, "", sigv4Error(err)
	}
	sum := sha256.Sum256(body)
	return signed, hex.EncodeToString(sum[:]), nil
}

// ErrBodyMismatch is what a handler reads from a request body that does not match the
// X-Amz-Content-Sha256 its client signed, at the end of the body.
var ErrBodyMismatch = errors.New("middleware: the request body does not match its signed X-Amz-Content-Sha256")

// checkedBody hashes a body as it is read and fails its end when the hash is not the signed one.
type checkedBody struct {
	r    io.ReadCloser
	h    hash.Hash
	want []byte
	bad  bool
}

func (b *checkedBody) Read(p []byte) (int, error) {
	if b.bad {
		return 0, ErrBodyMismatch
	}
	n, err := b.r.Read(p)
	b.h.Write(p[:n])
	if err == io.EOF && !bytes.Equal(b.h.Sum(nil), b.want) {
		b.bad = true
		return n, ErrBodyMismatch
	}
	return n, err
}

func (b *checkedBody) Close() error { return b.r.Close() }

// identity is the caller of e's requests, signed for region.
func (e *entry) identity(region string) *Identity {
	id := e.ident
	id.Region = region
	return &id
}

// decide evaluates route for e's principal with e's compiled policies, as the enforcer's
// Decide does; it returns whether it is allowed and, if not, AWS's message.
func (e *entry) decide(route *Route, facts *enforce.RequestFacts, res *resEntry) (bool, string) {
	resource := route.Resource
	if resource == "" {
		resource = "*"
	}
	resAccount := route.ResourceAccount
	var resPolicy *authz.Policies
	if res != nil && res.policies != nil {
		// As forward-auth: the stored policy is its owner's, the ARN's account first.
		resPolicy = res.policies
		if owner := cmp.Or(arn.Account(resource), route.ResourceAccount, e.principal.Account); owner != e.principal.Account {
			resAccount = owner
		}
	}
	sameAccount := resAccount == "" || resAccount == e.principal.Account
	if e.principal.Type == principal.Root && sameAccount && resPolicy == nil {
		return true, ""
	}
	// authz.Evaluate keeps its request on the heap; a pooled one makes the decision
	// allocation-free.
	req := requests.Get().(*authz.Request)
	defer requests.Put(req)
	*req = authz.Request{Caller: &e.caller, Action: route.Action, Resource: resource, ResourceAccount: resAccount,
		ResourcePolicy: resPolicy, Identity: e.identityPolicies, Boundary: e.boundary, Session: e.session}
	if e.usesKeys || resPolicy != nil {
		req.Context = enforce.RequestContext(&e.principal, e.principalARN, e.tags, *facts, resAccount, contextKeys(route.Context))
	}
	out := authz.Evaluate(req)
	if out.Decision == authz.Allowed {
		*req = authz.Request{}
		return true, ""
	}
	msg := authz.DeniedMessage(req, out)
	*req = authz.Request{}
	return false, msg
}

var requests = sync.Pool{New: func() any { return new(authz.Request) }}

func contextKeys(m map[string][]string) []enforce.ContextKey {
	if len(m) == 0 {
		return nil
	}
	keys := make([]enforce.ContextKey, 0, len(m))
	for k, v := range m {
		keys = append(keys, enforce.ContextKey{Name: k, Values: v, Multi: len(v) > 1})
	}
	return keys
}

// remote decides r with Gatehouse's Authorize, on the client's signed request.
func (m *Middleware) remote(r *http.Request, signed *sigv4.Signed, payloadHash string, route *Route, caller *Identity) (*Identity, error) {
	q := question{SignedRequest: &signedRequest{Method: r.Method, URI: r.URL.RequestURI(), Host: r.Host, Headers: map[string][]string(r.Header.Clone())}}
	if r.RequestURI != "" && strings.HasPrefix(r.RequestURI, "/") {
		q.SignedRequest.URI = r.RequestURI
	}
	if payloadHash != "" {
		// Gatehouse takes the payload hash from this header; it is not a signed header here
		// unless the client sent it.
		q.SignedRequest.Headers["X-Amz-Content-Sha256"] = []string{payloadHash}
	}
	if route == nil {
		// Of the caller, only its account is known until Gatehouse answers.
		rt, err := m.cfg.Routes(r, caller)
		if errors.Is(err, ErrNoRoute) {
			return nil, errorf(http.StatusBadRequest, "UnknownOperationException", "The service does not serve %s %s.", r.Method, r.URL.Path)
		}
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "ValidationException", "%v", err)
		}
		route = &rt
	}
	q.Action, q.Resource, q.ResourceAccount, q.ResourcePolicy = route.Action, route.Resource, route.ResourceAccount, route.ResourcePolicy
	f := m.facts(r, signed.Region, m.now())
	q.Context = map[string][]string{"aws:SecureTransport": {strconv.FormatBool(f.SecureTransport)}}
	if f.SourceIP != "" {
		q.Context["aws:SourceIp"] = []string{f.SourceIP}
	}
	for k, v := range route.Context {
		q.Context[k] = v
	}
	var a answer
	if err := m.client.call(r.Context(), "Authorize", &q, &a); err != nil {
		return nil, m.gatehouseError(r.Context(), err)
	}
	if a.Error != nil {
		return nil, errorf(http.StatusBadRequest, a.Error.Code, "%s", a.Error.Message)
	}
	if !a.Allowed {
		return nil, &apiError{Status: http.StatusForbidden, Code: "AccessDeniedException", Message: a.Message}
	}
	id := &Identity{Region: signed.Region, AccessKeyId: signed.AccessKeyID, Action: a.Action, Resource: a.Resource, Remote: true}
	if p := a.Principal; p != nil {
		id.Arn, id.Account, id.UserId, id.SessionName = p.Arn, p.Account, p.UserId, p.SessionName
	}
	return id, nil
}

// gatehouseError is what the client gets when Gatehouse refused a call: the client's own
// authentication failures pass through, Gatehouse being unreachable is 503 and anything else
// (the service's own key refused, say) is logged and answered 500.
func (m *Middleware) gatehouseError(ctx context.Context, err error) error {
	var ge *callError
	if !errors.As(err, &ge) {
		m.logger.WarnContext(ctx, "gatehouse unreachable", slog.String("error", err.Error()))
		return unavailable()
	}
	switch ge.Code {
	case sigv4.CodeInvalidClientTokenID, "ExpiredToken", sigv4.CodeSignatureDoesNotMatch, sigv4.CodeIncompleteSignature,
		sigv4.CodeMissingAuthenticationToken, sigv4.CodeMalformedQueryString:
		// The question was about the client's signature (Authorize with SignedRequest).
		return &apiError{Status: http.StatusForbidden, Code: ge.Code, Message: ge.Message}
	}
	if ge.Status >= 500 {
		m.logger.WarnContext(ctx, "gatehouse failed", slog.String("code", ge.Code), slog.String("error", ge.Message))
		return unavailable()
	}
	m.logger.ErrorContext(ctx, "gatehouse refused the service's call", slog.String("code", ge.Code), slog.String("error", ge.Message))
	return errorf(http.StatusInternalServerError, "InternalFailure", "The service could not authorize the request.")
}
