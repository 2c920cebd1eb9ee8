package postgres

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// changesChannel is the NOTIFY channel on which commits are announced.
const changesChannel = "gatehouse_changes"

// Listen calls changed after each write transaction committed by any node, as PostgreSQL
// announces them, until ctx is done. It reconnects after losing the database (calling changed
// then too, since announcements made meanwhile are lost). On a server without NOTIFY it returns
// at once: polling Changes is then the only way to learn of other nodes' writes.
func (s *Store) Listen(ctx context.Context, changed func()) {
	if !s.notify {
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, changed)
		if ctx.Err() != nil {
			return
		}
		s.logger.WarnContext(ctx, "listening for changes", slog.String("error", err.Error()), slog.Duration("retry_in", backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, changed func()) error {
	c, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return err
	}
	changed() // what was announced while no connection listened
	for {
		if _, err := c.WaitForNotification(ctx); err != nil {
			return err
		}
		changed()
	}
}
