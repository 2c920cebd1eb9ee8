package middleware

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// cacheMax bounds the signing contexts kept, and the refusals; past it each starts over.
const cacheMax = 16384

// scopeKey names one signing context: the service is the middleware's.
type scopeKey struct {
	accessKeyID, token, date, region string
}

// entry is one signing context, compiled.
type entry struct {
	fetched time.Time
	ttl     time.Duration // CacheTTL bounded by Gatehouse's MaxAge
	// remote marks a principal whose requests Gatehouse's Authorize decides (another
	// account's); key and policies are then unset.
	remote bool
	key    sigv4.SigningKey

	principal    principal.Principal // for the condition keys
	principalARN string              // aws:PrincipalArn
	caller       authz.Caller
	tags         []store.Tag

	identityPolicies, boundary, session *authz.Policies
	usesKeys                            bool
	expires                             time.Time // of temporary credentials
	ident                               Identity
}

// cache holds signing contexts by scope and fetches missing ones once per burst.
type cache struct {
	m       *Middleware
	mu      sync.RWMutex
	entries map[scopeKey]*entry
	refused map[scopeKey]refusal // scopes Gatehouse refused, for RefusedTTL
	flight  singleflight.Group   // fetches in flight, by scopeKey.flightKey
	// downUntil (unix nanoseconds) is when to try Gatehouse again after it could not be
	// reached.
	downUntil atomic.Int64
	docs      docCache
	res       resCache // resources' stored policies (respolicy.go)
}

// refusal is Gatehouse's answer to a scope's credentials it refused, kept until until.
type refusal struct {
	err   error
	until time.Time
}

func (c *cache) init(m *Middleware) {
	c.m = m
	c.entries = map[scopeKey]*entry{}
	c.refused = map[scopeKey]refusal{}
}

// flightKey is k as a key of cache.flight: each field with its length before it, so that
// distinct scopes never share a key.
func (k scopeKey) flightKey() string {
	var b strings.Builder
	b.Grow(len(k.accessKeyID) + len(k.token) + len(k.date) + len(k.region) + 4*4)
	for _, f := range [...]string{k.accessKeyID, k.token, k.date, k.region} {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
	}
	return b.String()
}

// get returns the signing context of k: the cached one while it is younger than its TTL
// (unless refresh), else a fetched one; when Gatehouse cannot be reached, the cached one while
// it is younger than StaleTTL, and otherwise 503.
func (c *cache) get(ctx context.Context, k scopeKey, now time.Time, refresh bool) (*entry, error) {
	c.mu.RLock()
	e := c.entries[k]
	r, refused := c.refused[k]
	c.mu.RUnlock()
	if e != nil && !refresh && now.Sub(e.fetched) < e.ttl {
		return e, nil
	}
	if refused && now.Before(r.until) {
		return nil, r.err
	}
	var err error
	if now.UnixNano() < c.downUntil.Load() {
		err = errUnreachable
	} else {
		var fresh *entry
		fresh, err = c.fetch(ctx, k, e)
		if err == nil {
			return fresh, nil
		}
	}
	if !errors.Is(err, errUnreachable) {
		return nil, err
	}
	if e != nil && now.Sub(e.fetched) < c.m.cfg.StaleTTL {
		return e, nil
	}
	return nil, unavailable()
}

var errUnreachable = errors.New("gatehouse unreachable")

// fetch asks Gatehouse for k's signing context, once for all the requests that need it at
// the same time: a request that finds a fetch in flight waits for it.
func (c *cache) fetch(ctx context.Context, k scopeKey, old *entry) (*entry, error) {
	c.mu.Lock()
	if cur := c.entries[k]; cur != old && cur != nil {
		// Another request fetched it meanwhile.
		c.mu.Unlock()
		return cur, nil
	}
	// Joined under c.mu, which run holds to store its entry before the fetch leaves flight:
	// a request sees either the fetch in flight or its entry.
	ch := c.flight.DoChan(k.flightKey(), func() (any, error) {
		k := scopeKey{strings.Clone(k.accessKeyID), strings.Clone(k.token), strings.Clone(k.date), strings.Clone(k.region)}
		// The fetch outlives a caller that gives up; others may be waiting on it.
		return c.run(context.WithoutCancel(ctx), k)
	})
	c.mu.Unlock()
	return wait[*entry](ctx, ch)
}

// wait is the result of the fetch of ch, or ctx's error if ctx ends first; the fetch goes on
// for the others waiting on it.
func wait[T any](ctx context.Context, ch <-chan singleflight.Result) (T, error) {
	select {
	case r := <-ch:
		v, _ := r.Val.(T)
		return v, r.Err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

func (c *cache) run(ctx context.Context, k scopeKey) (*entry, error) {
	m := c.m
	var out signingContextOutput
	err := m.client.call(ctx, "GetSigningContext", &signingContextInput{AccessKeyId: k.accessKeyID, SessionToken: k.token,
		Date: k.date, Region: k.region, Service: m.cfg.Service}, &out)
	now := m.now()
	var e *entry
	if err == nil {
		e, err = c.compile(&out, now)
		if err != nil {
			m.logger.ErrorContext(ctx, "gatehouse signing context does not compile", "error", err.Error())
			err = unavailable()
		}
	} else if _, answered := errors.AsType[*callError](err); answered {
		err = m.gatehouseError(ctx, err)
	} else {
		m.logger.WarnContext(ctx, "gatehouse unreachable", "error", err.Error())
		c.downUntil.Store(now.Add(RetryInterval).UnixNano())
		err = errUnreachable
	}
	c.mu.Lock()
	switch {
	case e != nil:
		if len(c.entries) >= cacheMax {
			c.entries = map[scopeKey]*entry{}
		}
		c.entries[k] = e
		delete(c.refused, k)
	case !errors.Is(err, errUnreachable):
		// Gatehouse answered: the key is no longer valid (or the service may not ask).
		delete(c.entries, k)
		if ae, ok := errors.AsType[*apiError](err); ok && ae.Status == http.StatusForbidden {
			if len(c.refused) >= cacheMax {
				c.refused = map[scopeKey]refusal{}
			}
			c.refused[k] = refusal{err: err, until: now.Add(RefusedTTL)}
		}
	}
	c.mu.Unlock()
	return e, err
}

// compile turns Gatehouse's answer into an entry.
func (c *cache) compile(out *signingContextOutput, now time.Time) (*entry, error) {
	m := c.m
	ttl := m.cfg.CacheTTL
	if out.MaxAge > 0 {
		ttl = min(ttl, time.Duration(min(out.MaxAge, 86400))*time.Second)
	}
	e := &entry{fetched: now, ttl: ttl, remote: out.DecideRemotely}
	pr := &out.Principal
	e.ident = Identity{Arn: pr.Arn, Account: pr.Account, UserId: pr.UserId, UserName: pr.UserName, Type: pr.Type, AccessKeyId: pr.AccessKeyId}
	if e.remote {
		return e, nil
	}
	key, err := hex.DecodeString(out.SigningKey)
	if err != nil || len(key) != len(e.key) {
		return nil, fmt.Errorf("SigningKey is not a hex SHA-256 key")
	}
	copy(e.key[:], key)
	switch principal.Type(pr.Type) {
	case principal.Root, principal.User, principal.AssumedRole, principal.FederatedUser:
	default:
		return nil, fmt.Errorf("unknown principal type %q", pr.Type)
	}
	if pr.Arn == "" || pr.Account == "" {
		return nil, fmt.Errorf("the principal has no ARN or account")
	}
	p := &e.principal
	*p = principal.Principal{Type: principal.Type(pr.Type), Account: pr.Account, ARN: pr.Arn, UserID: pr.UserId, UserName: pr.UserName, AccessKeyID: pr.AccessKeyId}
	if s := pr.Session; s != nil {
		p.Session = &principal.Session{IssuedAt: s.IssuedAt, Expires: s.Expiration, RoleID: s.RoleId, RoleARN: s.RoleArn, RoleName: s.RoleName,
			SessionName: s.SessionName, UserID: s.UserId, SourceIdentity: s.SourceIdentity, MFA: s.MFA, MFAAt: s.MFAAt, Federated: s.FederatedProvider}
		e.expires = s.Expiration
		e.ident.SessionName = s.SessionName
	}
	e.principalARN = pr.PrincipalArn
	if e.principalARN == "" {
		e.principalARN = pr.Arn
	}
	e.caller = authz.Caller{Type: authz.PrincipalType(pr.Type)}
	e.caller.Account, e.caller.ARN, e.caller.RoleARN, e.caller.RoleID, e.caller.ID = pr.Account, pr.Arn, pr.CallerRoleArn, pr.CallerRoleId, pr.CallerId
	for _, t := range out.Tags {
		e.tags = append(e.tags, store.Tag{Key: t.Key, Value: t.Value})
	}
	var identity, boundary, session policyList
	for _, d := range out.Policies {
		var l *policyList
		t := policy.Identity
		switch authz.PolicyType(d.PolicyType) {
		case authz.IdentityPolicy:
			l = &identity
		case authz.BoundaryPolicy:
			l = &boundary
		case authz.SessionPolicy:
			l, t = &session, policy.Session
		default:
			return nil, fmt.Errorf("policy %s has the unknown type %q", d.PolicyId, d.PolicyType)
		}
		pol, err := c.docs.compile(d.Document, t)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", d.PolicyId, err)
		}
		l.policies = append(l.policies, pol)
		l.sources = append(l.sources, authz.Source{Type: authz.PolicyType(d.PolicyType), ID: d.PolicyId})
	}
	// As the enforcer's grants: nil for a type without policies, except the session
	// policies of a session they cap (a federated user's, even none).
	e.identityPolicies = identity.compiled(false)
	e.boundary = boundary.compiled(false)
	e.session = session.compiled(out.SessionPolicies)
	all := append(append(append([]*policy.Policy(nil), identity.policies...), boundary.policies...), session.policies...)
	e.usesKeys = len(policy.ContextKeys(all...)) > 0
	return e, nil
}

type policyList struct {
	policies []*policy.Policy
	sources  []authz.Source
}

func (l *policyList) compiled(evenEmpty bool) *authz.Policies {
	if len(l.policies) == 0 && !evenEmpty {
		return nil
	}
	return authz.NewPolicies(l.policies, l.sources)
}

// docCache compiles each policy document once: principals share managed policies, and a
// refreshed signing context mostly repeats the documents it had.
type docCache struct {
	mu      sync.Mutex
	entries map[docKey]*policy.Policy
}

type docKey struct {
	t   policy.Type
	doc string
}

const docCacheMax = 4096

func (c *docCache) compile(doc string, t policy.Type) (*policy.Policy, error) {
	k := docKey{t, doc}
	c.mu.Lock()
	p := c.entries[k]
	c.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := policy.ParseStored([]byte(doc), t)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= docCacheMax {
		c.entries = map[docKey]*policy.Policy{}
	}
	c.entries[k] = p
	c.mu.Unlock()
	return p, nil
}

// Compile-time check that the shared context builder has the signature the middleware uses.
var _ = enforce.RequestContext
