package session_test

import (
	"context"
	"encoding/base64"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// gatedStore holds every Update until `views` Views have run, so that the nodes of a test all
// read the keys before any of them writes: the interleaving in which two nodes each find the
// active key stale and both rotate.
type gatedStore struct {
	store.Store
	mu    sync.Mutex
	views int
	open  chan struct{}
}

func newGatedStore(st store.Store, views int) *gatedStore {
	return &gatedStore{Store: st, views: views, open: make(chan struct{})}
}

func (g *gatedStore) View(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	err := g.Store.View(ctx, fn)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.views > 0 {
		if g.views--; g.views == 0 {
			close(g.open)
		}
	}
	return err
}

func (g *gatedStore) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	select {
	case <-g.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Store.Update(ctx, fn)
}

// TestConcurrentRotationOneKey runs two nodes (two Keyrings over one store) that both find the
// deployment's key stale and seal at the same moment: the fleet must end up with one new key,
// which seals both tokens, and each node opens the other's token.
func TestConcurrentRotationOneKey(t *testing.T) {
	t.Parallel()
	clk := newClock()
	st, box := openStore(t), newBox(t)
	ctx := context.Background()
	first := principals(clk.Now())["kind=user session token"] // 36 hours
	old, err := session.NewKeyring(st, box, clk.Now, discard, session.Options{}).Issue(ctx, &first, 0)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(25 * time.Hour) // the key is past RotateAfter (24 hours)

	gated := newGatedStore(st, 2) // each node reads the keys once before rotating
	nodes := []*session.Keyring{
		session.NewKeyring(gated, box, clk.Now, discard, session.Options{}),
		session.NewKeyring(gated, box, clk.Now, discard, session.Options{}),
	}
	creds := make([]session.Credentials, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, kr := range nodes {
		wg.Go(func() {
			p := principals(clk.Now())["kind=role session"]
			creds[i], errs[i] = kr.Issue(ctx, &p, 0)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: Issue: %v", i, err)
		}
	}

	var ids []string
	err = st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		recs, err := tx.List(ctx, session.KindKey, "", store.Query{})
		for _, r := range recs {
			ids = append(ids, r.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 {
		t.Fatalf("%d keys after two nodes rotated at once (%v), want 2: the stale one and one new", len(ids), ids)
	}
	a, b := keyID(t, creds[0].SessionToken), keyID(t, creds[1].SessionToken)
	if a != b {
		t.Errorf("the nodes sealed with different keys after rotating at once")
	}
	if a == keyID(t, old.SessionToken) {
		t.Errorf("the nodes sealed with the stale key")
	}
	for i, kr := range nodes {
		for j, c := range append([]session.Credentials{old}, creds...) {
			if _, err := kr.Open(ctx, c.SessionToken); err != nil {
				t.Errorf("node %d opening token %d: %v", i, j, err)
			}
		}
	}
}

// TestStoreChangedReloads checks that a node told of another node's write (StoreChanged, from
// the fleet's change watcher) finds that node's new key at once, although it reloaded within
// ReloadInterval for a token naming a key id nobody has: a forged token does not hide a key for
// the rest of the interval. Without the announcement the rate limit still holds.
func TestStoreChangedReloads(t *testing.T) {
	t.Parallel()
	clk := newClock()
	st, box := openStore(t), newBox(t)
	ctx := context.Background()
	nodeA := session.NewKeyring(st, box, clk.Now, discard, session.Options{ReloadInterval: time.Second})
	nodeB := session.NewKeyring(st, box, clk.Now, discard, session.Options{ReloadInterval: time.Second})
	forged := forgedToken(t)
	if _, err := nodeB.Open(ctx, forged); !errors.Is(err, session.ErrInvalid) { // B reloads: no keys
		t.Fatalf("forged token: %v", err)
	}
	p := principals(clk.Now())["kind=role session"]
	creds, err := nodeA.Issue(ctx, &p, 0) // A makes the first key
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nodeB.Open(ctx, creds.SessionToken); !errors.Is(err, session.ErrInvalid) {
		t.Fatalf("unannounced, within the reload interval: %v, want ErrInvalid (rate limited)", err)
	}
	nodeB.StoreChanged()
	if _, err := nodeB.Open(ctx, creds.SessionToken); err != nil {
		t.Fatalf("after StoreChanged: %v", err)
	}
	// The same a day later, when A rotates right after B reloaded for a forged token.
	clk.Add(25 * time.Hour)
	if _, err := nodeB.Open(ctx, forged); !errors.Is(err, session.ErrInvalid) {
		t.Fatalf("forged token: %v", err)
	}
	p = principals(clk.Now())["kind=role session"]
	next, err := nodeA.Issue(ctx, &p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if keyID(t, next.SessionToken) == keyID(t, creds.SessionToken) {
		t.Fatal("A did not rotate")
	}
	if _, err := nodeB.Open(ctx, next.SessionToken); !errors.Is(err, session.ErrInvalid) {
		t.Fatalf("unannounced rotation within the reload interval: %v, want ErrInvalid", err)
	}
	nodeB.StoreChanged()
	if _, err := nodeB.Open(ctx, next.SessionToken); err != nil {
		t.Fatalf("announced rotation: %v", err)
	}
}

// forgedToken is a well-formed session token naming a key id no deployment has.
func forgedToken(t *testing.T) string {
	t.Helper()
	raw := make([]byte, 1+8+12+16+64)
	raw[0] = 1 // the session format
	copy(raw[1:9], "forged!!")
	return base64.RawURLEncoding.EncodeToString(raw)
}
