package password

import (
	"net/netip"
	"sync"
	"time"
)

// Backoff says how failed attempts under one key (a user, a source address) slow that key down:
// the first Free failures cost nothing; each further failure blocks the key for Base, doubling
// up to Max. A key that has not failed for Forget starts again from zero.
type Backoff struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration
}

// Limiter counts failed attempts per key and answers how long a key must wait before its next
// attempt. It keeps at most MaxKeys keys: when full it drops keys that have been forgotten,
// then arbitrary ones, so an attacker rotating keys cannot grow it without bound (it can only
// make the limiter forget, which the other key kind covers: users and sources are limited
// separately). It is safe for concurrent use.
type Limiter struct {
	backoff Backoff
	maxKeys int
	mu      sync.Mutex
	keys    map[string]*failures
}

type failures struct {
	n     int
	last  time.Time // the last failure
	until time.Time // no attempt before
}

// NewLimiter returns a Limiter that applies b and keeps at most maxKeys keys.
func NewLimiter(b Backoff, maxKeys int) *Limiter {
	return &Limiter{backoff: b, maxKeys: max(maxKeys, 1), keys: map[string]*failures{}}
}

// Wait returns how long key must still wait at now before an attempt; 0 means it may try.
func (l *Limiter) Wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil || !now.Before(f.until) {
		return 0
	}
	return f.until.Sub(now)
}

// Fail records a failed attempt by key at now and returns how long the key is now blocked.
func (l *Limiter) Fail(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil || now.Sub(f.last) >= l.backoff.Forget {
		if f == nil && len(l.keys) >= l.maxKeys {
			l.evict(now)
		}
		f = &failures{}
		l.keys[key] = f
	}
	f.n++
	f.last = now
	over := f.n - l.backoff.Free
	if over <= 0 {
		return 0
	}
	d := l.backoff.Base
	for i := 1; i < over && d < l.backoff.Max; i++ {
		d *= 2
	}
	d = min(d, l.backoff.Max)
	f.until = now.Add(d)
	return d
}

// Succeed forgets key's failures (a correct password for the user).
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// evict makes room for one key: forgotten keys first, then whatever the map yields.
func (l *Limiter) evict(now time.Time) {
	for k, f := range l.keys {
		if now.Sub(f.last) >= l.backoff.Forget && !now.Before(f.until) {
			delete(l.keys, k)
		}
	}
	for k := range l.keys {
		if len(l.keys) < l.maxKeys {
			break
		}
		delete(l.keys, k)
	}
}

// SourceKey is the limiter key of a source address: the address itself for IPv4, its /64
// network for IPv6 (one host commonly holds a whole /64), and the text as given when it is not
// an address.
func SourceKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
}
