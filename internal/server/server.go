// Package server is the HTTP front of Gatehouse: it reads a Query request, authenticates it
// with SigV4, authorizes it, runs the operation and writes AWS's XML response. IAM and STS share
// one endpoint; the Version parameter (or, without it, the action name) picks the service.
package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// MaxBodyBytes bounds a request body. The largest legitimate IAM request (a role policy of
// 131,072 characters, percent-encoded) fits well inside it.
const MaxBodyBytes = 1 << 20

// MaxHeaderBytes bounds a request's header section (request line and header lines). net/http
// enforces it when http.Server.MaxHeaderBytes is MaxHeaderBytes-4096 (it reads 4096 bytes of
// bufio slop beyond that before it refuses); Listener turns the refusal into AWS's error.
const MaxHeaderBytes = 64 << 10

// Credentials looks up access keys for authentication; *enforce.Enforcer implements it.
type Credentials interface {
	LookupAccessKey(ctx context.Context, accessKeyID string) (*enforce.Credential, error)
	KeyUseDue(cred *enforce.Credential) bool
	RecordKeyUse(ctx context.Context, account, accessKeyID, service, region string) error
}

// Authorizer decides whether the authenticated caller may make a request; *iam.Service
// implements it.
type Authorizer interface {
	// AuthorizeOperation returns nil when the caller in ctx may perform op of service (the
	// signing name, "iam" or "sts") with the parameters in form; otherwise the error to answer
	// with: AccessDenied, or ValidationError for an input that is not valid.
	AuthorizeOperation(ctx context.Context, service string, op *awsquery.OperationModel, form url.Values) error
}

// Server serves the AWS Query API.
type Server struct {
	services   []*awsquery.Service
	byVersion  map[string]*awsquery.Service
	creds      Credentials
	authorizer Authorizer
	verifier   *sigv4.Verifier
	logger     *slog.Logger
	bufs       sync.Pool      // *requestBuffers
	observer   Observer       // nil: no metrics (observe.go)
	json       []*JSONService // the JSON-protocol APIs (json.go)
	trail      Trail          // nil: no audit trail (trail.go)
	jsonAuthz  JSONAuthorizer
}

// New returns a Server for services (IAM first: it answers requests whose service is unknown).
func New(creds Credentials, authorizer Authorizer, verifier *sigv4.Verifier, logger *slog.Logger, services ...*awsquery.Service) *Server {
	s := &Server{
		services:   services,
		byVersion:  map[string]*awsquery.Service{},
		creds:      creds,
		authorizer: authorizer,
		verifier:   verifier,
		logger:     logger,
		bufs:       sync.Pool{New: func() any { return new(requestBuffers) }},
	}
	for _, svc := range services {
		s.byVersion[svc.Model.APIVersion] = svc
	}
	return s
}

// requestBuffers hold one request's body and its answer while it is served.
type requestBuffers struct{ body, out bytes.Buffer }

// maxPooledBuffer is the largest buffer kept for the next request; the rare large policy
// document is not worth holding on to.
const maxPooledBuffer = 64 << 10

func (s *Server) putBuffers(b *requestBuffers) {
	if b.body.Cap() <= maxPooledBuffer && b.out.Cap() <= maxPooledBuffer {
		s.bufs.Put(b)
	}
}

// answerError is the AWS error a failed request answers: err's own, or InternalFailure
// (logged, as it is ours) or ServiceUnavailable when the store cannot be reached.
func (s *Server) answerError(r *http.Request, requestID string, err error) *awsquery.Error {
	if e := awsquery.AsError(err); e != nil {
		return e
	}
	s.logger.ErrorContext(r.Context(), "request failed", slog.String("request_id", requestID), slog.String("error", err.Error()))
	if errors.Is(err, store.ErrUnavailable) {
		return awsquery.ServiceUnavailable()
	}
	return awsquery.Internal()
}

// fail records that the request answered e.
func (o *outcome) fail(e *awsquery.Error) { o.err, o.status = e, e.Status }

// outcome is what one request did, for the response and the log line.
type outcome struct {
	svc    *awsquery.Service
	action string
	caller string
	// accessKeyID is the key id the request was signed with, once the signature parsed (also
	// when the key turns out unknown): an operator's first clue to who called.
	accessKeyID string
	// region is the verified signature's credential scope region (aws:RequestedRegion).
	region string
	// For the audit trail: the operation, its parameters, the authenticated caller and the
	// handler's output.
	op        *awsquery.OperationModel
	form      url.Values
	principal *principal.Principal
	out       any
	// jsonService is the JSON-protocol API that served the request (json.go).
	jsonService *JSONService
	err         *awsquery.Error
	status      int
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if target := r.Header.Get("X-Amz-Target"); target != "" && len(s.json) > 0 {
		s.serveJSON(w, r, target)
		return
	}
	start := time.Now()
	requestID := newRequestID()
	bufs := s.bufs.Get().(*requestBuffers)
	defer s.putBuffers(bufs)
	bufs.body.Reset()
	bufs.out.Reset()
	buf := &bufs.out

	o := outcome{svc: s.services[0], status: http.StatusOK}
	if err := s.serve(r, bufs, requestID, &o); err != nil {
		o.fail(s.answerError(r, requestID, err))
		buf.Reset()
		awsquery.EncodeError(buf, o.svc.Model.XMLNamespace, o.err, requestID)
	}
	// Canonical keys set directly, with one backing array: Header.Set would allocate a slice
	// per header and canonicalize each name on every request.
	values := make([]string, 3)
	values[0], values[1], values[2] = "text/xml", requestID, strconv.Itoa(buf.Len())
	h := w.Header()
	h["Content-Type"] = values[0:1:1]
	h["X-Amzn-Requestid"] = values[1:2:2]
	h["Content-Length"] = values[2:3:3]
	w.WriteHeader(o.status)
	_, _ = w.Write(buf.Bytes()) // a client that went away is no error of ours

	latency := time.Since(start)
	s.logRequest(r, requestID, &o, latency) // requestlog.go
	s.observe(&o, latency)
	s.record(r, requestID, &o) // trail.go
}

func (s *Server) serve(r *http.Request, bufs *requestBuffers, requestID string, o *outcome) error {
	body, form, err := readRequest(r, &bufs.body)
	if err != nil {
		return err
	}
	o.action = form.Get("Action")
	if v := form.Get("Version"); v != "" {
		if svc, ok := s.byVersion[v]; ok {
			o.svc = svc
		}
	} else {
		o.svc = s.serviceFor(o.action)
	}

	// Authenticate before looking at the action, so an unauthenticated caller learns nothing.
	ctx, err := s.authenticate(r, body, o)
	if err != nil {
		return err
	}
	if o.action == "" {
		return awsquery.Errorf(http.StatusBadRequest, "MissingAction", "The request must contain the parameter Action.")
	}
	if v := form.Get("Version"); v != "" && s.byVersion[v] == nil {
		return awsquery.Errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s", o.action, v)
	}
	op, handler, err := o.svc.Lookup(o.action)
	if err != nil {
		return err
	}
	o.op, o.form = op, form
	// Decide before the handler runs, so a denied request changes nothing.
	ctx = enforce.WithRequestFacts(ctx, requestFacts(r, o.region))
	if err := s.authorizer.AuthorizeOperation(ctx, o.svc.SigningName, op, form); err != nil {
		return err
	}
	out, err := handler(ctx, op, form)
	if err != nil {
		return err
	}
	o.out = out
	return awsquery.EncodeResponse(&bufs.out, o.svc.Model.XMLNamespace, op, out, requestID)
}

// RequestFacts is requestFacts for the other fronts of the server (forward-auth).
func RequestFacts(r *http.Request, region string) enforce.RequestFacts {
	return requestFacts(r, region)
}

// requestFacts are what the global condition keys report about r: aws:SourceIp (the peer's
// address, as ClientAddress resolved it behind a trusted proxy), aws:UserAgent, aws:SecureTransport,
// aws:RequestedRegion (region, of the verified signature's credential scope) and the current
// time.
func requestFacts(r *http.Request, region string) enforce.RequestFacts {
	return enforce.RequestFacts{
		SourceIP:        sourceIP(r),
		UserAgent:       r.Header.Get("User-Agent"),
		SecureTransport: SecureTransport(r),
		Region:          region,
		Time:            time.Now(),
	}
}

// serviceFor picks the service of an action when the request names no Version.
func (s *Server) serviceFor(action string) *awsquery.Service {
	for _, svc := range s.services {
		if _, ok := svc.Model.Operations[action]; ok {
			return svc
		}
	}
	return s.services[0]
}

// readRequest reads the bounded body into buf and merges the query string with a form body.
func readRequest(r *http.Request, buf *bytes.Buffer) ([]byte, url.Values, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, nil, awsquery.Errorf(http.StatusMethodNotAllowed, "InvalidHttpRequest", "The HTTP method %s is not supported; use GET or POST.", r.Method)
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, nil, errBodyTooLarge()
	}
	if err := readBody(r.Body, buf); err != nil {
		return nil, nil, err
	}
	body := buf.Bytes()
	form := url.Values{}
	if err := parseQuery(form, r.URL.RawQuery); err != nil {
		return nil, nil, awsquery.Errorf(http.StatusBadRequest, "MalformedQueryString", "The query string is not valid URL encoding: %v", err)
	}
	if len(body) > 0 {
		if mt := mediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			return nil, nil, awsquery.Errorf(http.StatusBadRequest, "MalformedQueryString", "The request body must be application/x-www-form-urlencoded, not %q.", mt)
		}
		if err := parseQuery(form, string(body)); err != nil {
			return nil, nil, awsquery.Errorf(http.StatusBadRequest, "MalformedQueryString", "The request body is not valid URL encoding: %v", err)
		}
	}
	return body, form, nil
}

// readBody reads body into buf, up to MaxBodyBytes. It reads into buf's free space itself:
// bytes.Buffer.ReadFrom through an io.LimitedReader would put the reader on the heap.
func readBody(body io.Reader, buf *bytes.Buffer) error {
	for {
		if buf.Len() > MaxBodyBytes {
			return errBodyTooLarge()
		}
		if buf.Available() < 512 {
			buf.Grow(512)
		}
		free := buf.AvailableBuffer()
		n, err := body.Read(free[:cap(free)])
		buf.Write(free[:n]) // appends in place: free is buf's own spare capacity
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return awsquery.Errorf(http.StatusBadRequest, "MalformedQueryString", "The request body could not be read.")
		}
	}
}

func errBodyTooLarge() error {
	return awsquery.Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is larger than %d bytes.", MaxBodyBytes)
}

// mediaType is the lower-case media type of a Content-Type value, without its parameters.
// mime.ParseMediaType would also parse the parameters, which no Query request needs, at the
// cost of a map per request.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	if strings.EqualFold(mt, "application/x-www-form-urlencoded") {
		return "application/x-www-form-urlencoded"
	}
	return strings.ToLower(mt)
}

// authenticate verifies the SigV4 signature and returns a context carrying the caller. A
// request signed with temporary credentials is verified against its session token, without a
// store read. The STS calls that AWS serves without a signature (AssumeRoleWithWebIdentity,
// AssumeRoleWithSAML) go on with no principal in the context: the web identity token or SAML
// assertion they carry, and the role's trust policy, decide them.
func (s *Server) authenticate(r *http.Request, body []byte, o *outcome) (context.Context, error) {
	ctx := r.Context()
	if o.svc.SigningName == "sts" && unsignedAction(o.action) {
		return ctx, nil
	}
	signed, err := s.verifier.Parse(r, body)
	if err != nil {
		return nil, sigv4Error(err)
	}
	o.accessKeyID, o.region = signed.AccessKeyID, signed.Region
	ctx, p, err := s.authenticateSigned(ctx, signed, o.svc.SigningName)
	if err != nil {
		return nil, err
	}
	o.caller, o.principal = p.ARN, p
	return ctx, nil
}

// AuthenticateProxied authenticates a request whose body Gatehouse does not see: the client's
// request as a reverse proxy describes it to forward-auth (sigv4.Verifier.ParsePayloadHash).
// It returns the verified signature and a context carrying the caller, or an *awsquery.Error
// with AWS's code: the signature's service is for the caller to check.
func (s *Server) AuthenticateProxied(ctx context.Context, r *http.Request) (context.Context, *sigv4.Signed, *principal.Principal, error) {
	signed, err := s.verifier.ParsePayloadHash(r)
	if err != nil {
		return nil, nil, nil, sigv4Error(err)
	}
	ctx, p, err := s.authenticateSigned(ctx, signed, "")
	if err != nil {
		return nil, signed, nil, err
	}
	return ctx, signed, p, nil
}

// authenticateSigned finds the secret of a parsed signature (the access key's, or the session
// token's), verifies the signature and, when service is not "", that it is scoped to service.
func (s *Server) authenticateSigned(ctx context.Context, signed *sigv4.Signed, service string) (context.Context, *principal.Principal, error) {
	if signed.SessionToken != "" || strings.HasPrefix(signed.AccessKeyID, session.TemporaryKeyPrefix) {
		return s.authenticateSession(ctx, signed, service)
	}
	cred, err := s.creds.LookupAccessKey(ctx, signed.AccessKeyID)
	if errors.Is(err, enforce.ErrUnknownKey) {
		return nil, nil, sigv4Error(sigv4.ErrInvalidClientTokenID())
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up access key: %w", err)
	}
	if err := signed.Verify(cred.Secret); err != nil {
		return nil, nil, sigv4Error(err)
	}
	if err := checkService(signed, service); err != nil {
		return nil, nil, err
	}
	if s.creds.KeyUseDue(cred) {
		if err := s.creds.RecordKeyUse(ctx, cred.Principal.Account, signed.AccessKeyID, signed.Service, signed.Region); err != nil {
			// Recording use is bookkeeping; the request itself goes on.
			s.logger.WarnContext(ctx, "record access key use", slog.String("access_key_id", signed.AccessKeyID), slog.String("error", err.Error()))
		}
	}
	return principal.NewContext(ctx, &cred.Principal), &cred.Principal, nil
}

// checkService refuses a signature scoped to another service than the one it reached.
func checkService(signed *sigv4.Signed, service string) error {
	if service != "" && signed.Service != service {
		return awsquery.Errorf(http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to correct service: '%s'.", service)
	}
	return nil
}

// SessionCredentials opens session tokens. The Credentials given to New implement it when the
// deployment issues temporary credentials; without it every session token is invalid.
type SessionCredentials interface {
	OpenSession(ctx context.Context, token string) (*session.Claims, error)
	// SessionPrincipalExists reports whether the session's user or role still exists.
	SessionPrincipalExists(ctx context.Context, p *principal.Principal) (bool, error)
}

// unsignedAction reports the STS actions that take no signature.
func unsignedAction(action string) bool {
	return action == "AssumeRoleWithWebIdentity" || action == "AssumeRoleWithSAML"
}

// authenticateSession verifies a request signed with temporary credentials: the session token
// must be one this deployment sealed and has not expired, name the access key id that signed,
// and its secret must verify the signature.
func (s *Server) authenticateSession(ctx context.Context, signed *sigv4.Signed, service string) (context.Context, *principal.Principal, error) {
	sc, ok := s.creds.(SessionCredentials)
	if !ok || signed.SessionToken == "" {
		return nil, nil, sigv4Error(sigv4.ErrInvalidClientTokenID())
	}
	claims, err := sc.OpenSession(ctx, signed.SessionToken)
	switch {
	case errors.Is(err, session.ErrExpired):
		return nil, nil, awsquery.Errorf(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
	case errors.Is(err, session.ErrInvalid):
		return nil, nil, sigv4Error(sigv4.ErrInvalidClientTokenID())
	case err != nil:
		return nil, nil, fmt.Errorf("open session token: %w", err)
	}
	if claims.Principal.AccessKeyID != signed.AccessKeyID {
		// A genuine token presented with another access key id is not valid for it.
		return nil, nil, sigv4Error(sigv4.ErrInvalidClientTokenID())
	}
	if err := signed.Verify(claims.SecretAccessKey); err != nil {
		return nil, nil, sigv4Error(err)
	}
	if err := checkService(signed, service); err != nil {
		return nil, nil, err
	}
	// A session outlives nothing it came from: once its user or role is deleted (or deleted
	// and re-created under the same name) AWS refuses the token for every operation.
	exists, err := sc.SessionPrincipalExists(ctx, &claims.Principal)
	if err != nil {
		return nil, nil, fmt.Errorf("check session principal: %w", err)
	}
	if !exists {
		return nil, nil, sigv4Error(sigv4.ErrInvalidClientTokenID())
	}
	return principal.NewContext(ctx, &claims.Principal), &claims.Principal, nil
}

func sigv4Error(err error) error {
	var e *sigv4.Error
	if errors.As(err, &e) {
		return &awsquery.Error{Code: e.Code, Message: e.Message, Status: e.Status, Sender: true}
	}
	return err
}

// newRequestID returns a random UUID (version 4), the form of AWS request ids. The bytes are
// read here rather than by uuid.NewString, whose reader interface costs a second heap
// allocation per request.
func newRequestID() string {
	var u uuid.UUID
	_, _ = rand.Read(u[:]) // crypto/rand.Read does not fail
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// Listener returns ln with connections on which a request whose header section is too large
// gets AWS's XML error, RequestHeaderSectionTooLarge (Amazon S3's code and status for it; IAM
// and STS document none). net/http refuses such a request before any handler runs, writing a
// plain-text "431 Request Header Fields Too Large" straight to the connection in one Write;
// the connection replaces that answer. No handler answers 431, so nothing else is replaced.
// Under TLS the wrapper would have to sit above the TLS layer to see that write.
func (s *Server) Listener(ln net.Listener) net.Listener { return headerLimitListener{ln, s} }

type headerLimitListener struct {
	net.Listener
	s *Server
}

func (l headerLimitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return headerLimitConn{c, l.s}, nil
}

type headerLimitConn struct {
	net.Conn
	s *Server
}

// netHTTPTooLarge starts net/http's own answer to a header section over its limit.
var netHTTPTooLarge = []byte("HTTP/1.1 431 ")

func (c headerLimitConn) Write(p []byte) (int, error) {
	if !bytes.HasPrefix(p, netHTTPTooLarge) {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(c.s.headerTooLarge()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite half-closes the connection after that answer, as net/http does with a bare TCP
// connection, so that the client reads it before the connection is reset.
func (c headerLimitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// headerTooLarge is the whole HTTP response to a request whose header section is too large.
// Which service it was for is unknown (the request was not read), so IAM's namespace is used.
func (s *Server) headerTooLarge() []byte {
	requestID := newRequestID()
	e := awsquery.Errorf(http.StatusBadRequest, "RequestHeaderSectionTooLarge",
		"Your request header section exceeds the maximum allowed size of %d bytes; send fewer or smaller headers.", MaxHeaderBytes)
	var body bytes.Buffer
	awsquery.EncodeError(&body, s.services[0].Model.XMLNamespace, e, requestID)
	var resp bytes.Buffer
	fmt.Fprintf(&resp, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/xml\r\nContent-Length: %d\r\nx-amzn-RequestId: %s\r\nConnection: close\r\n\r\n", body.Len(), requestID)
	resp.Write(body.Bytes())
	s.logger.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("request_id", requestID),
		slog.String("outcome", e.Code),
		slog.Int("status", e.Status),
	)
	return resp.Bytes()
}
