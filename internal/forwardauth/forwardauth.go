// Package forwardauth answers the authorization subrequests of reverse proxies (nginx
// auth_request, Traefik ForwardAuth, Envoy ext_authz over HTTP) for the services Gatehouse
// protects: it verifies the client's SigV4 signature on the request the proxy describes, maps
// the request to an action and resource by the service's routes, decides it with the
// caller's policies like any AWS request, and answers 200 with the caller's identity in
// headers, or 403 with AWS's error.
//
// The client's request is described by headers, as each proxy sends it:
//   - nginx: X-Original-Method and X-Original-URI (set in the auth location), the client's
//     other headers as they came, the client's Host (proxy_set_header Host $http_host) and,
//     since the subrequest carries no body, X-Original-Content-Length when the client signed
//     its Content-Length;
//   - Traefik: X-Forwarded-Method, X-Forwarded-Uri and X-Forwarded-Host;
//   - Envoy: the subrequest is the client's request itself, its path under
//     /forward-auth/SERVICE (path_prefix).
//
// The signature binds the method, path, query, host and signed headers, so a caller who
// reaches this endpoint directly learns nothing it could not learn by sending its request.
package forwardauth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-iam/gatehouse/arn"
	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/services"
	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

// Prefix is the path forward-auth is served at; /forward-auth/SERVICE pins the service the
// signature must be scoped to.
const Prefix = "/forward-auth"

// The identity headers of an allowed request, for the proxy to pass to the service.
const (
	HeaderPrincipalARN = "X-Gatehouse-Principal-Arn"
	HeaderAccount      = "X-Gatehouse-Account"
	HeaderUserID       = "X-Gatehouse-User-Id"
	HeaderSessionName  = "X-Gatehouse-Session-Name"
	HeaderAction       = "X-Gatehouse-Action"
	HeaderResource     = "X-Gatehouse-Resource"
	// HeaderError carries a denial's error body (one line), for a proxy that cannot pass the
	// subrequest's body on (nginx: auth_request_set and an error_page that returns it).
	HeaderError = "X-Gatehouse-Error"
	// HeaderErrorType is the denial's error code, as AWS's JSON protocols send it.
	HeaderErrorType = "X-Amzn-Errortype"
)

// Authenticator verifies a client's signature; *server.Server implements it.
type Authenticator interface {
	AuthenticateProxied(ctx context.Context, r *http.Request) (context.Context, *sigv4.Signed, *principal.Principal, error)
}

// Authorizer decides an access for the caller in ctx and finds the stored policies of
// resources; *enforce.Enforcer implements it.
type Authorizer interface {
	Authorize(ctx context.Context, acc enforce.Access) error
	ResourcePolicy(ctx context.Context, account, arn string) (*authz.Policies, error)
}

// Decision is what one forward-auth request decided, for the audit trail.
type Decision struct {
	Signed    *sigv4.Signed        // nil when the signature did not parse
	Principal *principal.Principal // nil when not authenticated
	Request   *http.Request        // the client's request as the proxy described it
	Match     *services.Match      // nil when no route matched
	Err       *awsquery.Error      // nil when allowed
}

// Handler serves forward-auth.
type Handler struct {
	Services func() *services.Set
	Auth     Authenticator
	Authz    Authorizer
	// Facts are the global condition keys' facts of a request (the client's address, as the
	// server's ClientAddress resolved it behind a trusted proxy, and its transport).
	Facts func(r *http.Request, region string) enforce.RequestFacts
	// Decided, if set, is told every decision.
	Decided func(ctx context.Context, d *Decision)
	Logger  *slog.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := &Decision{}
	format := "json"
	ctx, err := h.decide(r, d, &format)
	if err != nil {
		e := awsquery.AsError(err)
		if e == nil {
			h.Logger.ErrorContext(r.Context(), "forward-auth failed", slog.String("error", err.Error()))
			e = awsquery.Internal()
		}
		d.Err = e
		h.deny(w, e, format)
	} else {
		allow(w, d)
	}
	if h.Decided != nil {
		h.Decided(ctx, d)
	}
}

func (h *Handler) decide(r *http.Request, d *Decision, format *string) (context.Context, error) {
	ctx := r.Context()
	// /forward-auth/SERVICE[/the client's path, from Envoy]
	pinned, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, Prefix), "/"), "/")
	set := h.Services()
	if svc, ok := set.Service(pinned); ok {
		*format = svc.ErrorFormat
	}
	orig, err := originalRequest(r, pinned)
	if err != nil {
		return ctx, err
	}
	d.Request = orig
	actx, signed, p, err := h.Auth.AuthenticateProxied(ctx, orig)
	d.Signed = signed
	if err != nil {
		return ctx, err
	}
	ctx, d.Principal = actx, p
	name := signed.Service
	if pinned != "" && name != pinned {
		return ctx, awsquery.Errorf(http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to correct service: '%s'.", pinned)
	}
	svc, ok := set.Service(name)
	if !ok {
		return ctx, awsquery.Errorf(http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to a service Gatehouse protects; '%s' is not one.", name)
	}
	*format = svc.ErrorFormat
	m, err := svc.Match(orig, signed.Region, p.Account)
	if errors.Is(err, services.ErrNoRoute) {
		return ctx, awsquery.Errorf(http.StatusForbidden, "UnknownOperationException", "No operation of %s matches %s %s.", svc.Name, orig.Method, orig.URL.Path)
	}
	if err != nil {
		return ctx, awsquery.Errorf(http.StatusForbidden, "ValidationException", "%s", upperFirst(err.Error()))
	}
	d.Match = m
	acc := enforce.Access{Action: m.Action, Resource: m.Resource, ResourceAccount: m.ResourceAccount}
	if m.Resource != "*" {
		// The resource's own policy (respolicy) takes part, and may grant other accounts.
		owner := cmp.Or(arn.Account(m.Resource), m.ResourceAccount, p.Account)
		if acc.ResourcePolicy, err = h.Authz.ResourcePolicy(ctx, owner, m.Resource); err != nil {
			return ctx, err
		}
		if owner != p.Account {
			acc.ResourceAccount = owner
		}
	}
	for _, c := range m.Context {
		acc.Keys = append(acc.Keys, enforce.ContextKey{Name: c.Key, Values: c.Values, Multi: len(c.Values) > 1})
	}
	ctx = enforce.WithRequestFacts(ctx, h.Facts(r, signed.Region))
	return ctx, h.Authz.Authorize(ctx, acc)
}

// originalRequest rebuilds the client's request from what the proxy sent, for verifying its
// signature and matching its route.
func originalRequest(r *http.Request, pinned string) (*http.Request, error) {
	method := firstHeader(r, "X-Original-Method", "X-Forwarded-Method")
	target := firstHeader(r, "X-Original-Uri", "X-Forwarded-Uri")
	if method == "" {
		method = r.Method
	}
	if target == "" {
		// Envoy: the client's request itself, under Prefix (and the pinned service).
		target = strings.TrimPrefix(r.URL.RequestURI(), Prefix)
		if pinned != "" {
			target = strings.TrimPrefix(target, "/"+pinned)
		}
		if target == "" || target[0] != '/' {
			target = "/" + target
		}
	}
	if !strings.HasPrefix(target, "/") {
		return nil, awsquery.Errorf(http.StatusForbidden, "ValidationException", "The original request target %q is not a path.", target)
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, awsquery.Errorf(http.StatusForbidden, "ValidationException", "The original request target %q is not a valid URI.", target)
	}
	orig := &http.Request{
		Method:     strings.ToUpper(method),
		URL:        u,
		RequestURI: target,
		Proto:      r.Proto, ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
		Header:     r.Header.Clone(),
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		TLS:        r.TLS,
	}
	orig = orig.WithContext(r.Context())
	if host := r.Header.Get("X-Forwarded-Host"); host != "" && r.Header.Get("X-Forwarded-Uri") != "" {
		orig.Host = host // Traefik sends the client's Host here
	}
	if n := r.Header.Get("X-Original-Content-Length"); n != "" {
		orig.Header.Set("Content-Length", n)
	}
	for _, h := range []string{"X-Original-Method", "X-Original-Uri", "X-Original-Content-Length"} {
		orig.Header.Del(h)
	}
	return orig, nil
}

func firstHeader(r *http.Request, names ...string) string {
	for _, n := range names {
		if v := r.Header.Get(n); v != "" {
			return v
		}
	}
	return ""
}

func allow(w http.ResponseWriter, d *Decision) {
	h := w.Header()
	p := d.Principal
	h.Set(HeaderPrincipalARN, p.ARN)
	h.Set(HeaderAccount, p.Account)
	h.Set(HeaderUserID, p.UserID)
	if p.Session != nil && p.Session.SessionName != "" {
		h.Set(HeaderSessionName, p.Session.SessionName)
	}
	h.Set(HeaderAction, d.Match.Action)
	h.Set(HeaderResource, d.Match.Resource)
	w.WriteHeader(http.StatusOK)
}

// deny answers 403 (a proxy takes 401 and 403 as denials and anything else as its own error)
// with e in the service's protocol: AWS's JSON error ({"__type": ..., "message": ...}) or
// its XML ErrorResponse. The body is also in HeaderError, one line, for nginx.
func (h *Handler) deny(w http.ResponseWriter, e *awsquery.Error, format string) {
	code := e.Code
	if code == "AccessDenied" && format == "json" {
		code = "AccessDeniedException" // the JSON protocols' name for it
	}
	var body []byte
	ctype := "application/x-amz-json-1.1"
	if format == "xml" {
		ctype = "text/xml"
		body = []byte(xmlError(code, e.Message))
	} else {
		body, _ = json.Marshal(struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}{code, e.Message})
	}
	hd := w.Header()
	hd.Set("Content-Type", ctype)
	hd.Set(HeaderErrorType, code)
	hd.Set(HeaderError, string(body))
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write(body)
}

func xmlError(code, message string) string {
	var b strings.Builder
	b.WriteString("<ErrorResponse><Error><Type>Sender</Type><Code>")
	b.WriteString(escapeXML(code))
	b.WriteString("</Code><Message>")
	b.WriteString(escapeXML(message))
	b.WriteString("</Message></Error></ErrorResponse>")
	return b.String()
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "\n", "&#xA;", "\r", "&#xD;", "\t", "&#x9;")

func escapeXML(s string) string { return xmlEscaper.Replace(s) }

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
