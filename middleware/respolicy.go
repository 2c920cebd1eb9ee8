package middleware

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// A resource of a protected service may have a resource-based policy stored in Gatehouse
// (PutResourcePolicy), which takes part in every decision about it. The middleware reads it
// with GetResourcePolicy (its key needs gatehouse:GetResourcePolicy on the resources) and
// caches it per ARN as it caches signing contexts. Gatehouse hands out only the policies of
// the resources of its caller's account; another account's resources are decided by
// Authorize.

// resEntry is a resource's stored policy, or its absence.
type resEntry struct {
	fetched  time.Time
	ttl      time.Duration
	policies *authz.Policies // nil: the resource has none
	remote   bool            // Gatehouse would not say: decide with Authorize
}

type resCache struct {
	mu      sync.RWMutex
	entries map[string]*resEntry
	flight  singleflight.Group // fetches in flight, by ARN
}

type getResourcePolicyOutput struct {
	ResourceArn  string
	Policy       string
	LastModified float64
}

// resourcePolicy returns the stored policy of arn, under the rules of cache.get.
func (c *cache) resourcePolicy(ctx context.Context, arn string, now time.Time, refresh bool) (*resEntry, error) {
	rc := &c.res
	rc.mu.RLock()
	e := rc.entries[arn]
	rc.mu.RUnlock()
	if e != nil && !refresh && now.Sub(e.fetched) < e.ttl {
		return e, nil
	}
	var err error
	if now.UnixNano() < c.downUntil.Load() {
		err = errUnreachable
	} else {
		var fresh *resEntry
		if fresh, err = c.fetchResource(ctx, arn, e); err == nil {
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

// fetchResource is cache.fetch for the stored policy of arn.
func (c *cache) fetchResource(ctx context.Context, arn string, old *resEntry) (*resEntry, error) {
	rc := &c.res
	rc.mu.Lock()
	if rc.entries == nil {
		rc.entries = map[string]*resEntry{}
	}
	if cur := rc.entries[arn]; cur != old && cur != nil {
		rc.mu.Unlock()
		return cur, nil
	}
	ch := rc.flight.DoChan(arn, func() (any, error) {
		return c.runResource(context.WithoutCancel(ctx), strings.Clone(arn))
	})
	rc.mu.Unlock()
	return wait[*resEntry](ctx, ch)
}

func (c *cache) runResource(ctx context.Context, arn string) (*resEntry, error) {
	m := c.m
	var out getResourcePolicyOutput
	err := m.client.call(ctx, "GetResourcePolicy", &struct{ ResourceArn string }{arn}, &out)
	now := m.now()
	e := &resEntry{fetched: now, ttl: min(m.cfg.CacheTTL, maxResourceTTL)}
	var ce *callError
	switch {
	case err == nil:
		p, perr := c.docs.compile(out.Policy, policy.Resource)
		if perr != nil {
			m.logger.ErrorContext(ctx, "gatehouse resource policy does not compile", "resource", arn, "error", perr.Error())
			e, err = nil, unavailable()
			break
		}
		e.policies = authz.NewPolicies([]*policy.Policy{p}, []authz.Source{{Type: authz.ResourcePolicy, ID: arn}})
	case errors.As(err, &ce) && (ce.Code == "ResourceNotFoundException" || ce.Code == "ValidationException" || ce.Code == "UnknownOperationException"):
		// No policy; not a resource of a service Gatehouse protects, which has none; or a
		// Gatehouse that stores no resource policies.
		err = nil
	case errors.As(err, &ce) && ce.Status == http.StatusForbidden:
		// Another account's resource (or the key may not read policies): Authorize decides.
		e.remote, err = true, nil
	case errors.As(err, &ce):
		e, err = nil, m.gatehouseError(ctx, err)
	default:
		m.logger.WarnContext(ctx, "gatehouse unreachable", "error", err.Error())
		c.downUntil.Store(now.Add(RetryInterval).UnixNano())
		e, err = nil, errUnreachable
	}
	rc := &c.res
	rc.mu.Lock()
	if e != nil {
		if len(rc.entries) >= cacheMax {
			rc.entries = map[string]*resEntry{}
		}
		rc.entries[arn] = e
	}
	rc.mu.Unlock()
	return e, err
}

// maxResourceTTL is Gatehouse's own bound (enforce.CacheTTL) for its cached resource policies
// is not sent with GetResourcePolicy; the middleware's CacheTTL alone bounds it.
const maxResourceTTL = 24 * time.Hour

// isARN reports whether a route's resource is an ARN, which may have a stored policy.
func isARN(resource string) bool { return strings.HasPrefix(resource, "arn:") }
