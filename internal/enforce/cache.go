package enforce

import (
	"sync"
	"sync/atomic"
	"time"
)

// CacheTTL bounds how long a looked-up access key, a caller's grants or an authorization
// target is reused without reading the store. Writes made through this process invalidate the
// caches at once (see Enforcer.Invalidate); writes made by another process on the same
// database (`gatehouse account create`, other nodes) are seen within this time, in the spirit
// of IAM's own eventual consistency.
const CacheTTL = 2 * time.Second

// cacheMax bounds each cache; past it the cache starts over rather than track recency.
const cacheMax = 16384

// credCache remembers LookupAccessKey results: authentication runs on every request, and the
// store read and decryption behind it would otherwise dominate a cheap call such as GetUser.
type credCache struct {
	// epoch counts committed IAM writes of this process; an authorization target from an older
	// epoch is stale.
	epoch atomic.Uint64
	// principals counts the committed writes that may change an existing principal: all but
	// the creation of a new user, group or role (which has no keys, members or sessions yet).
	// A credential or grant from an older count is stale, so a deactivated or deleted key, or
	// a renamed user, is never served from the cache, while a stream of CreateUser calls does
	// not make every request read its key again.
	principals atomic.Uint64

	entries EpochCache[*Credential]

	// lastUse is when this process last recorded each key's use, so concurrent requests with
	// one key record it once per KeyUseInterval, not once each.
	lastUse sync.Map // access key id -> time.Time
}

func (c *credCache) get(keyID string, now time.Time) *Credential {
	cred, _ := c.entries.Get(keyID, c.principals.Load(), now)
	return cred
}

// put stores cred as read at epoch, a principals count taken before the read (so a write
// racing the read makes the entry stale rather than serving what the write replaced).
func (c *credCache) put(keyID string, cred *Credential, epoch uint64, now time.Time) {
	c.entries.Put(keyID, cred, epoch, now)
}

// invalidate marks cached entries stale after a committed write; newEntityOnly says the write
// only created a user, group or role, which leaves credentials and grants as they were.
func (c *credCache) invalidate(newEntityOnly bool) {
	if !newEntityOnly {
		c.principals.Add(1)
	}
	c.epoch.Add(1)
}

// claimUse reports whether a request at now should record keyID's use, and if so claims it
// for this interval so concurrent requests don't record it again.
func (c *credCache) claimUse(keyID string, stored *time.Time, now time.Time) bool {
	last := time.Time{}
	if stored != nil {
		last = *stored
	}
	if v, ok := c.lastUse.Load(keyID); ok && v.(time.Time).After(last) {
		last = v.(time.Time)
	}
	if now.Sub(last) < KeyUseInterval {
		return false
	}
	prev, loaded := c.lastUse.Swap(keyID, now)
	// Another request may have claimed it between the Load and the Swap.
	return !loaded || now.Sub(prev.(time.Time)) >= KeyUseInterval
}

// EpochCache maps keys to values read from the store at an epoch of committed writes (see
// Enforcer.Epoch and Enforcer.Invalidate). A value is served only while no write of this
// process has committed since it was read, and for at most CacheTTL, for writes made by other
// processes. The credential, grant and authorization-target caches are all one; the zero
// value is an empty cache.
type EpochCache[V any] struct {
	mu      sync.RWMutex
	entries map[string]epochEntry[V]
	// hits and misses count Get's answers, for the metrics (CacheStats).
	hits, misses atomic.Uint64
}

type epochEntry[V any] struct {
	v       V
	epoch   uint64
	fetched time.Time
}

// Get returns the value stored under key at epoch, if it is younger than CacheTTL at now.
func (c *EpochCache[V]) Get(key string, epoch uint64, now time.Time) (V, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || e.epoch != epoch || now.Sub(e.fetched) >= CacheTTL {
		c.misses.Add(1)
		var zero V
		return zero, false
	}
	c.hits.Add(1)
	return e.v, true
}

// Put stores v under key as read at epoch, an epoch taken before the read (so a write racing
// the read makes the entry stale rather than serving what the write replaced).
func (c *EpochCache[V]) Put(key string, v V, epoch uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= cacheMax {
		c.entries = make(map[string]epochEntry[V])
	}
	c.entries[key] = epochEntry[V]{v: v, epoch: epoch, fetched: now}
}

// Counts reports how often Get answered from memory (hits) or sent the caller to the store
// (misses), since the process started.
func (c *EpochCache[V]) Counts() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }
