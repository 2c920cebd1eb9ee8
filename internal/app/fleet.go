package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// changePoll is how often a node asks the database whether another node wrote. With the
// credential cache's own lifetime out of the way, it bounds how long a write made on one node
// takes to govern authentication and authorization on the others (one poll plus one read).
const changePoll = 250 * time.Millisecond

// listener is a store that announces other nodes' commits as they happen (PostgreSQL's NOTIFY).
type listener interface {
	Listen(ctx context.Context, changed func())
}

// watchChanges drops this node's caches whenever the database's change count moves, until ctx
// is done: by polling (which works on any PostgreSQL-protocol database) and, where the store
// can, also at each announcement. A store that counts no changes (SQLite, whose other writers
// are one-off commands) leaves the caches to their own short lifetime.
func (a *App) watchChanges(ctx context.Context) {
	counter, ok := a.store.(store.ChangeCounter)
	if !ok {
		return
	}
	// A write may be another node's new session key as well as a credential or grant.
	changed := func() { a.Enforcer.DropCaches(); a.Sessions.StoreChanged() }
	if l, ok := a.store.(listener); ok {
		go l.Listen(ctx, changed)
	}
	go func() {
		t := time.NewTicker(changePoll)
		defer t.Stop()
		var last uint64
		failing := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := counter.Changes(ctx)
			if err != nil {
				if !failing && ctx.Err() == nil {
					a.logger.WarnContext(ctx, "reading the change count", slog.String("error", err.Error()))
				}
				failing = true
				continue
			}
			if n != last || failing {
				// Own writes count too; dropping the caches then costs a few reads, nothing more.
				changed()
			}
			last, failing = n, false
		}
	}()
}
