package session

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// KindKey is the store kind of server session keys: Account "", Key the creation time and id
// (so keys list oldest first), ID the key id in hex, Data a storedKey.
const KindKey store.Kind = "session-key"

// MaxSessionDuration is the longest any session lasts (GetSessionToken and GetFederationToken
// allow 129,600 seconds); a server key is kept this long after it last sealed a token.
const MaxSessionDuration = 36 * time.Hour

// Defaults of Options.
const (
	DefaultRotateAfter    = 24 * time.Hour
	DefaultReloadInterval = time.Second
)

// keyRetainSlack keeps a key a little longer than its last session could last, for clocks of
// nodes that disagree.
const keyRetainSlack = time.Hour

// Sentinel errors of Open.
var (
	// ErrInvalid is a token that is not one this deployment sealed (malformed, tampered with,
	// or sealed under a key that no longer exists): AWS's InvalidClientTokenId.
	ErrInvalid = errors.New("session: the security token included in the request is invalid")
	// ErrExpired is a genuine token whose session has ended: AWS's ExpiredToken.
	ErrExpired = errors.New("session: the security token included in the request is expired")
)

// Token formats: the first byte of a sealed token, authenticated with the key id.
const (
	formatSession byte = 1
	formatAuthMsg byte = 2
)

const (
	keyIDLen  = 8
	headerLen = 1 + keyIDLen
	nonceLen  = 12
	overhead  = headerLen + nonceLen + 16 // + GCM tag
)

// bufPool holds the buffers tokens are decoded into; the claims copy what they keep, so a
// buffer is reused across requests instead of allocated on each.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledBuf bounds the buffers kept in bufPool, so one huge token does not pin memory.
const maxPooledBuf = 16 << 10

// tokenEncoding spells every sealed value. Decoding is strict, so that a token has exactly one
// spelling: without Strict the unused low bits of the last character are ignored and up to 15
// other last characters open the same token.
var tokenEncoding = base64.RawURLEncoding.Strict()

// Options tune a Keyring; zero fields take the defaults.
type Options struct {
	// RotateAfter is how long a server key seals new tokens before a new key replaces it.
	RotateAfter time.Duration
	// ReloadInterval is the least time between two reloads of the keys from the store caused
	// by tokens naming unknown key ids, unless StoreChanged announced a write in between.
	ReloadInterval time.Duration
}

// Keyring seals and opens session tokens under the deployment's server keys. It is safe for
// concurrent use; one Keyring serves a whole process.
type Keyring struct {
	store  store.Store
	box    *secret.Box
	now    func() time.Time
	logger *slog.Logger
	opts   Options

	keys atomic.Pointer[keySet] // read without locks on every request

	mu         sync.Mutex // serializes reloads and rotation
	lastReload time.Time
	// changed is set when the store may hold keys this node has not loaded (StoreChanged).
	changed atomic.Bool
}

// keySet is an immutable snapshot of the known keys.
type keySet struct {
	byID   map[uint64]*serverKey
	active *serverKey // the newest key, or nil
}

type serverKey struct {
	id      uint64
	created time.Time
	aead    cipher.AEAD
}

// storedKey is the JSON body of a KindKey record.
type storedKey struct {
	ID      string    `json:"id"`
	Sealed  []byte    `json:"sealed"` // 32 bytes sealed under the master key, bound to the id
	Created time.Time `json:"created"`
}

// NewKeyring returns a Keyring over st whose keys are sealed at rest with box. It reads no
// keys until first used.
func NewKeyring(st store.Store, box *secret.Box, now func() time.Time, logger *slog.Logger, opts Options) *Keyring {
	if opts.RotateAfter <= 0 {
		opts.RotateAfter = DefaultRotateAfter
	}
	if opts.ReloadInterval <= 0 {
		opts.ReloadInterval = DefaultReloadInterval
	}
	k := &Keyring{store: st, box: box, now: now, logger: logger, opts: opts}
	k.keys.Store(&keySet{byID: map[uint64]*serverKey{}})
	return k
}

// Load reads the server keys from the store, so the first requests need no reload.
func (k *Keyring) Load(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reloadLocked(ctx)
}

// Issue makes temporary credentials for p, whose Account and Session (with IssuedAt and
// Expires) must be set: a new ASIA access key id for p.Account, a random secret access key and
// the sealed session token, padded to at least minTokenSize characters (STS's
// MinimumSessionTokenSize; 0 for no padding). It sets p.AccessKeyID.
func (k *Keyring) Issue(ctx context.Context, p *principal.Principal, minTokenSize int) (Credentials, error) {
	if p.Session == nil {
		return Credentials{}, errors.New("session: issue: the principal has no session")
	}
	id, err := NewAccessKeyID(p.Account)
	if err != nil {
		return Credentials{}, err
	}
	p.AccessKeyID = id
	c := Claims{Principal: *p, SecretAccessKey: newSecret()}
	plain := appendClaims(make([]byte, 0, 512), &c)
	plain = appendPadding(plain, minTokenSize)
	tok, err := k.seal(ctx, formatSession, plain)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{AccessKeyID: id, SecretAccessKey: c.SecretAccessKey, SessionToken: tok, Expiration: p.Session.Expires}, nil
}

// Credentials are temporary credentials as STS returns them.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// Open verifies a session token and returns its claims: ErrInvalid when it is not a token
// this deployment sealed, ErrExpired when its session has ended. It reads the store only when
// the token names a key this node does not know (at most once per ReloadInterval, or per
// StoreChanged).
func (k *Keyring) Open(ctx context.Context, token string) (*Claims, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	plain, err := k.open(ctx, formatSession, token, (*bp)[:0])
	if err != nil {
		return nil, err
	}
	if cap(plain) > cap(*bp) && cap(plain) <= maxPooledBuf {
		*bp = plain[:0]
	}
	c, err := decodeClaims(plain)
	if err != nil {
		return nil, ErrInvalid
	}
	if !k.now().Before(c.Principal.Session.Expires) {
		return nil, ErrExpired
	}
	return c, nil
}

// seal seals plain in the given format under the active key, rotating first when it is due.
func (k *Keyring) seal(ctx context.Context, format byte, plain []byte) (string, error) {
	key, err := k.activeKey(ctx)
	if err != nil {
		return "", err
	}
	out := make([]byte, headerLen+nonceLen, overhead+len(plain))
	out[0] = format
	binary.BigEndian.PutUint64(out[1:headerLen], key.id)
	if _, err := rand.Read(out[headerLen:]); err != nil {
		return "", fmt.Errorf("session: nonce: %w", err)
	}
	out = key.aead.Seal(out, out[headerLen:headerLen+nonceLen], plain, out[:headerLen])
	return tokenEncoding.EncodeToString(out), nil
}

// open decodes and authenticates a sealed value of the given format; plain is appended to dst.
func (k *Keyring) open(ctx context.Context, format byte, token string, dst []byte) ([]byte, error) {
	n := tokenEncoding.DecodedLen(len(token))
	// Even a strict decoder skips CR and LF, which would be further spellings.
	if n < overhead || strings.ContainsAny(token, "\r\n") {
		return nil, ErrInvalid
	}
	var raw []byte
	if n <= cap(dst) {
		raw = dst[:n]
	} else {
		raw = make([]byte, n)
	}
	m, err := tokenEncoding.Decode(raw, []byte(token))
	if err != nil || m != n || raw[0] != format {
		return nil, ErrInvalid
	}
	id := binary.BigEndian.Uint64(raw[1:headerLen])
	key := k.keys.Load().byID[id]
	if key == nil {
		if key = k.refresh(ctx, id); key == nil {
			return nil, ErrInvalid
		}
	}
	plain, err := key.aead.Open(raw[headerLen+nonceLen:headerLen+nonceLen], raw[headerLen:headerLen+nonceLen], raw[headerLen+nonceLen:], raw[:headerLen])
	if err != nil {
		return nil, ErrInvalid
	}
	return plain, nil
}

// refresh reloads the keys to find id, unless a reload happened within ReloadInterval.
func (k *Keyring) refresh(ctx context.Context, id uint64) *serverKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key := k.keys.Load().byID[id]; key != nil {
		return key // another request reloaded meanwhile
	}
	if !k.lastReload.IsZero() && k.now().Sub(k.lastReload) < k.opts.ReloadInterval && !k.changed.Load() {
		return nil
	}
	if err := k.reloadLocked(ctx); err != nil {
		k.logger.WarnContext(ctx, "reload session keys", slog.String("error", err.Error()))
		return nil
	}
	return k.keys.Load().byID[id]
}

// StoreChanged tells k that another node may have written to the store (the fleet's change
// watcher calls it), so the next token naming a key k does not know reloads the keys even within
// ReloadInterval: a key another node has just made opens here once its write is announced, even
// right after a reload made for some other unknown key id (such as a forged token's).
func (k *Keyring) StoreChanged() { k.changed.Store(true) }

// activeKey returns the key to seal with, rotating when the newest key is older than
// RotateAfter.
func (k *Keyring) activeKey(ctx context.Context) (*serverKey, error) {
	if a := k.keys.Load().active; a != nil && k.fresh(a) {
		return a, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if a := k.keys.Load().active; a != nil && k.fresh(a) {
		return a, nil
	}
	// Another node may have rotated already: look before making a key.
	if err := k.reloadLocked(ctx); err != nil {
		return nil, err
	}
	if a := k.keys.Load().active; a != nil && k.fresh(a) {
		return a, nil
	}
	if err := k.rotateLocked(ctx); err != nil {
		return nil, err
	}
	return k.keys.Load().active, nil
}

func (k *Keyring) fresh(key *serverKey) bool {
	return k.now().Sub(key.created) < k.opts.RotateAfter
}

// reloadLocked replaces the in-memory keys with the store's. k.mu must be held.
func (k *Keyring) reloadLocked(ctx context.Context) error {
	k.changed.Store(false) // before the read, so a change announced during it is kept
	var recs []store.Record
	err := k.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		recs, err = tx.List(ctx, KindKey, "", store.Query{})
		return err
	})
	if err != nil {
		return fmt.Errorf("session: load keys: %w", err)
	}
	k.lastReload = k.now()
	set := &keySet{byID: make(map[uint64]*serverKey, len(recs))}
	for _, rec := range recs {
		key, err := k.openStored(rec)
		if err != nil {
			// One bad record must not take every session down; it is logged and skipped.
			k.logger.ErrorContext(ctx, "skip session key", slog.String("key", rec.Key), slog.String("error", err.Error()))
			continue
		}
		set.byID[key.id] = key
		if set.active == nil || key.created.After(set.active.created) {
			set.active = key
		}
	}
	k.keys.Store(set)
	return nil
}

func (k *Keyring) openStored(rec store.Record) (*serverKey, error) {
	var sk storedKey
	if err := store.Decode(rec, &sk); err != nil {
		return nil, err
	}
	idb, err := hex.DecodeString(sk.ID)
	if err != nil || len(idb) != keyIDLen {
		return nil, fmt.Errorf("session: key id %q is not %d bytes of hex", sk.ID, keyIDLen)
	}
	raw, err := k.box.Open(sk.Sealed, keyContext(sk.ID))
	if err != nil {
		return nil, fmt.Errorf("session: open key %s: %w", sk.ID, err)
	}
	aead, err := newAEAD(raw)
	if err != nil {
		return nil, err
	}
	return &serverKey{id: binary.BigEndian.Uint64(idb), created: sk.Created, aead: aead}, nil
}

// rotateLocked stores a new key, prunes keys whose sessions have all ended, and reloads; when
// another node has stored a fresh key since this node's last reload, it only reloads, so a fleet
// whose nodes rotate at once makes one key. k.mu must be held.
func (k *Keyring) rotateLocked(ctx context.Context) error {
	var idb [keyIDLen]byte
	raw := make([]byte, 32)
	if _, err := rand.Read(idb[:]); err != nil {
		return fmt.Errorf("session: key id: %w", err)
	}
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("session: key: %w", err)
	}
	id := hex.EncodeToString(idb[:])
	sealed, err := k.box.Seal(raw, keyContext(id))
	if err != nil {
		return fmt.Errorf("session: seal key: %w", err)
	}
	now := k.now().UTC()
	sk := storedKey{ID: id, Sealed: sealed, Created: now}
	// A key last sealed at created+RotateAfter; its sessions end MaxSessionDuration later.
	cutoff := now.Add(-(k.opts.RotateAfter + MaxSessionDuration + keyRetainSlack))
	rotated := false
	err = k.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		rotated = false
		recs, err := tx.List(ctx, KindKey, "", store.Query{})
		if err != nil {
			return err
		}
		// Updates are serialized fleet-wide, so this look cannot miss another node's rotation
		// the way the reload before it can. Only a key this node opens counts, so that it is
		// never left without one to seal with.
		for _, rec := range recs {
			if key, err := k.openStored(rec); err == nil && k.fresh(key) {
				return nil
			}
		}
		for _, rec := range recs {
			var old storedKey
			if store.Decode(rec, &old) == nil && old.Created.Before(cutoff) {
				if err := tx.Delete(ctx, KindKey, "", rec.Key); err != nil {
					return err
				}
			}
		}
		rotated = true
		return tx.Insert(ctx, store.Record{Kind: KindKey, Key: recordKey(now, id), ID: id, Data: store.Encode(sk)})
	})
	if err != nil {
		return fmt.Errorf("session: store new key: %w", err)
	}
	if rotated {
		k.logger.InfoContext(ctx, "session key rotated", slog.String("key_id", id))
	}
	return k.reloadLocked(ctx)
}

// recordKey orders keys by creation time in List.
func recordKey(created time.Time, id string) string {
	return created.UTC().Format("20060102T150405.000000000Z") + "/" + id
}

// keyContext binds a sealed server key to its id, so a sealed key copied to another record
// does not open.
func keyContext(id string) []byte { return []byte("session-key/" + id) }

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return aead, nil
}
