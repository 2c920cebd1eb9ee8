package iam

import (
	"sync"
	"sync/atomic"
	"time"
)

// credCacheTTL bounds how long a looked-up access key is reused without reading the store.
// Writes made through this process invalidate the cache at once (see epoch); writes made by
// another process on the same database (`gatehouse account create`, other nodes) are seen
// within this time, in the spirit of IAM's own eventual consistency.
const credCacheTTL = 2 * time.Second

// credCacheMax bounds the cache; past it the cache starts over rather than track recency.
const credCacheMax = 16384

// credCache remembers LookupAccessKey results: authentication runs on every request, and the
// store read and decryption behind it would otherwise dominate a cheap call such as GetUser.
type credCache struct {
	// epoch counts committed IAM writes of this process; an entry from an older epoch is stale,
	// so a deactivated or deleted key, or a renamed user, is never served from the cache.
	epoch atomic.Uint64

	mu      sync.RWMutex
	entries map[string]credEntry

	// lastUse is when this process last recorded each key's use, so concurrent requests with
	// one key record it once per KeyUseInterval, not once each.
	lastUse sync.Map // access key id -> time.Time
}

type credEntry struct {
	cred    *Credential
	epoch   uint64
	fetched time.Time
}

func (c *credCache) get(keyID string, now time.Time) *Credential {
	c.mu.RLock()
	e, ok := c.entries[keyID]
	c.mu.RUnlock()
	if !ok || e.epoch != c.epoch.Load() || now.Sub(e.fetched) >= credCacheTTL {
		return nil
	}
	return e.cred
}

// put stores cred as read at epoch (taken before the read, so a write racing the read makes
// the entry stale rather than serving what the write replaced).
func (c *credCache) put(keyID string, cred *Credential, epoch uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= credCacheMax {
		c.entries = make(map[string]credEntry)
	}
	c.entries[keyID] = credEntry{cred: cred, epoch: epoch, fetched: now}
}

// invalidate marks every entry stale; called after each committed write.
func (c *credCache) invalidate() { c.epoch.Add(1) }

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
