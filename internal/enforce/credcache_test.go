package enforce

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCredCache(t *testing.T) {
	t.Parallel()
	var c credCache
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cred := &Credential{Secret: "s"}
	cases := []struct {
		name string
		prep func()
		at   time.Time
		hit  bool
	}{
		{"case=empty", func() {}, t0, false},
		{"case=fresh entry", func() { c.put("K", cred, c.principals.Load(), t0) }, t0.Add(time.Second), true},
		{"case=expired entry", func() { c.put("K", cred, c.principals.Load(), t0) }, t0.Add(CacheTTL), false},
		{"case=write after put", func() { c.put("K", cred, c.principals.Load(), t0); c.invalidate(false) }, t0, false},
		{"case=write during read", func() { e := c.principals.Load(); c.invalidate(false); c.put("K", cred, e, t0) }, t0, false},
		{"case=new user created after put", func() { c.put("K", cred, c.principals.Load(), t0); c.invalidate(true) }, t0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.prep()
			if got := c.get("K", tc.at) != nil; got != tc.hit {
				t.Fatalf("hit = %v, want %v", got, tc.hit)
			}
			c.invalidate(false)
		})
	}
}

func TestClaimUseOncePerInterval(t *testing.T) {
	t.Parallel()
	var c credCache
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var claims atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c.claimUse("K", nil, t0) {
				claims.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := claims.Load(); n != 1 {
		t.Fatalf("%d concurrent requests claimed the use record, want 1", n)
	}
	if c.claimUse("K", nil, t0.Add(KeyUseInterval-time.Second)) {
		t.Error("claimed again inside the interval")
	}
	if !c.claimUse("K", nil, t0.Add(KeyUseInterval)) {
		t.Error("not claimed after the interval")
	}
	stored := t0.Add(10 * KeyUseInterval)
	if c.claimUse("K2", &stored, stored.Add(time.Second)) {
		t.Error("claimed although the stored last use is recent")
	}
}
