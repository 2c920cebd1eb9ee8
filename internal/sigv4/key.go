package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"sync"
)

// hmacMaxMsg is the longest message hmacSHA256 handles on the stack; a string to sign is about
// 150 bytes. Longer messages take crypto/hmac.
const hmacMaxMsg = 256

// hmacSHA256 is HMAC-SHA256 (RFC 2104) computed with two sha256.Sum256 calls on stack buffers.
// crypto/hmac allocates its two hash states on every use; this runs once or five times a request.
func hmacSHA256(key, msg []byte) [sha256.Size]byte {
	if len(msg) > hmacMaxMsg {
		// A copy, so that key does not escape and callers' stack keys stay on the stack.
		m := hmac.New(sha256.New, bytes.Clone(key))
		m.Write(msg)
		var out [sha256.Size]byte
		m.Sum(out[:0])
		return out
	}
	var k [sha256.BlockSize]byte
	if len(key) > sha256.BlockSize {
		sum := sha256.Sum256(key)
		copy(k[:], sum[:])
	} else {
		copy(k[:], key)
	}
	var in [sha256.BlockSize + hmacMaxMsg]byte
	for i, c := range k {
		in[i] = c ^ 0x36
	}
	n := copy(in[sha256.BlockSize:], msg)
	inner := sha256.Sum256(in[:sha256.BlockSize+n])
	var out [sha256.BlockSize + sha256.Size]byte
	for i, c := range k {
		out[i] = c ^ 0x5c
	}
	copy(out[sha256.BlockSize:], inner[:])
	return sha256.Sum256(out[:])
}

// deriveKey computes the SigV4 signing key:
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func deriveKey(secret, date, region, service string) [sha256.Size]byte {
	var buf [4 + 64]byte
	var seed []byte
	if len(secret) <= 64 {
		seed = append(append(buf[:0], "AWS4"...), secret...)
	} else {
		seed = []byte("AWS4" + secret)
	}
	var tmp [hmacMaxMsg]byte
	k := hmacSHA256(seed, append(tmp[:0], date...))
	k = hmacSHA256(k[:], append(tmp[:0], region...))
	k = hmacSHA256(k[:], append(tmp[:0], service...))
	return hmacSHA256(k[:], []byte(scopeTerminator))
}

// keyCacheMax bounds the cache: one entry per access key, day, region and service in use.
const keyCacheMax = 4096

type cacheKey struct {
	secret, date, region, service string
}

// keyCache holds derived signing keys. It is filled only with keys that verified a signature,
// so its size is bounded by real use, and by keyCacheMax in any case.
type keyCache struct {
	mu sync.RWMutex
	m  map[cacheKey][sha256.Size]byte
}

func (c *keyCache) get(k cacheKey) ([sha256.Size]byte, bool) {
	c.mu.RLock()
	key, ok := c.m[k]
	c.mu.RUnlock()
	return key, ok
}

func (c *keyCache) put(k cacheKey, key [sha256.Size]byte) {
	// The strings of a parsed request point into its headers; copy them so the cache keeps
	// nothing else of the request alive.
	k = cacheKey{secret: strings.Clone(k.secret), date: strings.Clone(k.date), region: strings.Clone(k.region), service: strings.Clone(k.service)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[cacheKey][sha256.Size]byte)
	}
	if len(c.m) >= keyCacheMax {
		// Drop an eighth, in map order (effectively random): yesterday's keys go first on
		// average, and eviction costs O(1) per insert overall.
		n := keyCacheMax / 8
		for old := range c.m {
			delete(c.m, old)
			if n--; n == 0 {
				break
			}
		}
	}
	c.m[k] = key
}

func (c *keyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
