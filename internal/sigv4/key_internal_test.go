package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"testing"
)

func stdHMAC(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// TestHMACMatchesStdlib compares the stack-buffer HMAC with crypto/hmac on both sides of every
// length boundary: keys around the 64-byte block, messages around the 256-byte fast path.
func TestHMACMatchesStdlib(t *testing.T) {
	t.Parallel()
	data := make([]byte, 600)
	for i := range data {
		data[i] = byte(i*131 + 7)
	}
	keyLens := []int{0, 1, 32, 63, 64, 65, 68, 128, 200}
	msgLens := []int{0, 1, 55, 56, 64, 150, 255, 256, 257, 500}
	for _, kl := range keyLens {
		for _, ml := range msgLens {
			name := "key=" + strconv.Itoa(kl) + "/msg=" + strconv.Itoa(ml)
			t.Run(name, func(t *testing.T) {
				key, msg := data[:kl], data[100:100+ml]
				got := hmacSHA256(key, msg)
				if want := stdHMAC(key, msg); !bytes.Equal(got[:], want) {
					t.Errorf("hmacSHA256 = %x, want %x", got, want)
				}
			})
		}
	}
}

// TestDeriveKey checks the signing key against an independent derivation with crypto/hmac, and
// against the example in AWS's General Reference ("Examples of how to derive a signing key"):
// secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam.
func TestDeriveKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                          string
		secret, date, region, service string
		want                          string // hex; empty: compare with crypto/hmac only
	}{
		{name: "aws example", secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", date: "20120215", region: "us-east-1", service: "iam",
			want: "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"},
		{name: "sts eu-west-3", secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", date: "20240517", region: "eu-west-3", service: "sts"},
		{name: "secret longer than a block", secret: string(bytes.Repeat([]byte("s"), 100)), date: "20240517", region: "us-east-1", service: "iam"},
		{name: "long region", secret: "secret", date: "20240517", region: string(bytes.Repeat([]byte("r"), 300)), service: "iam"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := deriveKey(tt.secret, tt.date, tt.region, tt.service)
			k := stdHMAC([]byte("AWS4"+tt.secret), []byte(tt.date))
			k = stdHMAC(k, []byte(tt.region))
			k = stdHMAC(k, []byte(tt.service))
			k = stdHMAC(k, []byte("aws4_request"))
			if !bytes.Equal(got[:], k) {
				t.Errorf("deriveKey = %x, crypto/hmac gives %x", got, k)
			}
			if tt.want != "" && hex.EncodeToString(got[:]) != tt.want {
				t.Errorf("deriveKey = %x, want %s", got, tt.want)
			}
		})
	}
}

// TestKeyCacheBounded fills the cache past its bound from many goroutines (run with -race to check
// the locking): it must stay bounded, and a key it returns must be the key that was put.
func TestKeyCacheBounded(t *testing.T) {
	t.Parallel()
	var c keyCache
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range keyCacheMax {
				k := cacheKey{secret: "s" + strconv.Itoa(g), date: "20240517", region: strconv.Itoa(i), service: "iam"}
				want := deriveKey(k.secret, k.date, k.region, k.service)
				c.put(k, want)
				// Another goroutine may have evicted it already; if not, it must be intact.
				if got, ok := c.get(k); ok && got != want {
					t.Errorf("get(%v) = %x, want %x", k, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := c.len(); n > keyCacheMax || n < keyCacheMax-keyCacheMax/8 {
		t.Errorf("cache holds %d keys, want %d..%d", n, keyCacheMax-keyCacheMax/8, keyCacheMax)
	}
	k := cacheKey{secret: "last", date: "20240517", region: "us-east-1", service: "iam"}
	c.put(k, deriveKey(k.secret, k.date, k.region, k.service))
	if _, ok := c.get(k); !ok {
		t.Error("key just put is missing")
	}
}
