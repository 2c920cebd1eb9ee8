package password

import (
	"context"
	"strings"
	"testing"
	"time"
)

// fast are cheap parameters for the tests that only need a hash, not its cost.
var fast = Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32}

func TestHashRoundTrip(t *testing.T) {
	salt, err := NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"correct horse battery staple", "ÿ\t\r\n ~", strings.Repeat("x", 128)} {
		h := Derive(pw, salt, fast)
		s := h.String()
		if !strings.HasPrefix(s, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("PHC string %q", s)
		}
		back, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		if !back.Equal(h) || back.String() != s {
			t.Fatalf("Parse(String()) = %+v, want %+v", back, h)
		}
		if !back.Matches(pw) {
			t.Fatalf("%q does not match its own hash", pw)
		}
		if back.Matches(pw + "x") {
			t.Fatalf("%q matches the hash of %q", pw+"x", pw)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	good := Derive("pw", make([]byte, 16), fast).String()
	parts := strings.Split(good, "$")
	join := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"argon2i", join(1, "argon2i")},
		{"old version", join(2, "v=16")},
		{"missing params", join(3, "m=64,t=1")},
		{"params out of order", join(3, "t=1,m=64,p=1")},
		{"leading zero", join(3, "m=064,t=1,p=1")},
		{"no passes", join(3, "m=64,t=0,p=1")},
		{"too many passes", join(3, "m=64,t=17,p=1")},
		{"too much memory", join(3, "m=1048577,t=1,p=1")},
		{"memory under 8 per lane", join(3, "m=15,t=1,p=2")},
		{"no lanes", join(3, "m=64,t=1,p=0")},
		{"padded salt", join(4, parts[4]+"==")},
		{"short salt", join(4, "AAAA")},
		{"short key", join(5, "AAAA")},
		{"key too long", join(5, strings.Repeat("A", 88))},
		{"extra field", good + "$x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.in); err != ErrMalformed {
				t.Fatalf("Parse(%q) = %v, want ErrMalformed", tc.in, err)
			}
		})
	}
}

// FuzzParse: whatever Parse accepts it writes back identically, so every hash has one spelling
// and a stored value is never misread. Seeds in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(Derive("pw", make([]byte, 16), fast).String())
	f.Fuzz(func(t *testing.T, s string) {
		h, err := Parse(s)
		if err != nil {
			return
		}
		if h.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, h.String())
		}
	})
}

func TestHasherVerify(t *testing.T) {
	h := NewHasher(fast, 1)
	ctx := context.Background()
	salt, _ := NewSalt()
	stored, err := h.Derive(ctx, "s3cret!", salt)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"s3cret!", true}, {"s3cret", false}, {"", false}} {
		ok, err := h.Verify(ctx, tc.pw, stored.String())
		if err != nil || ok != tc.want {
			t.Fatalf("Verify(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
	if _, err := h.Verify(ctx, "x", "$argon2id$nonsense"); err != ErrMalformed {
		t.Fatalf("Verify of a malformed hash: %v", err)
	}
	// A caller whose context ends while every slot is taken gives up.
	h.slots <- struct{}{}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.Verify(cctx, "s3cret!", stored.String()); err != context.Canceled {
		t.Fatalf("Verify with all slots taken and a canceled context: %v", err)
	}
}

func TestLimiterBackoff(t *testing.T) {
	b := Backoff{Free: 3, Base: time.Second, Max: 8 * time.Second, Forget: time.Hour}
	l := NewLimiter(b, 10)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Failures 1-3 are free, then 1 s, 2 s, 4 s, 8 s, 8 s.
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	now := t0
	for i, w := range want {
		if got := l.Fail("alice", now); got != w {
			t.Fatalf("failure %d blocks for %v, want %v", i+1, got, w)
		}
		if got := l.Wait("alice", now); got != w {
			t.Fatalf("after failure %d Wait = %v, want %v", i+1, got, w)
		}
		now = now.Add(w)
	}
	if got := l.Wait("bob", now); got != 0 {
		t.Fatalf("another key waits %v", got)
	}
	// A success forgets; so does an hour without failures.
	l.Succeed("alice")
	if got := l.Fail("alice", now); got != 0 {
		t.Fatalf("first failure after a success blocks for %v", got)
	}
	for range 3 {
		l.Fail("carol", now)
	}
	if got := l.Fail("carol", now.Add(time.Hour)); got != 0 {
		t.Fatalf("failure an hour later blocks for %v", got)
	}
}

func TestLimiterStaysBounded(t *testing.T) {
	l := NewLimiter(Backoff{Free: 1, Base: time.Second, Max: time.Minute, Forget: time.Hour}, 100)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		l.Fail("10.0.0."+string(rune('a'+i%26))+strings.Repeat("x", i/26), now)
	}
	if n := len(l.keys); n > 100 {
		t.Fatalf("limiter holds %d keys, bound 100", n)
	}
}

func TestSourceKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not-an-address", "not-an-address"},
	} {
		if got := SourceKey(tc.in); got != tc.want {
			t.Errorf("SourceKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// BenchmarkHash measures one check with the Default parameters: the cost of every
// CreateLoginProfile, sign-in and ChangePassword step (must stay under 50 ms).
func BenchmarkHash(b *testing.B) {
	salt := make([]byte, SaltLen)
	for b.Loop() {
		Derive("correct horse battery staple", salt, Default)
	}
}
