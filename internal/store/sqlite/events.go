package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

var _ store.EventLog = (*Store)(nil)

// The statements of the audit trail.
const (
	sqlInsertEvent = `INSERT INTO events (account, time, id, name, source, username, access_key_id, read_only, resources, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	sqlInsertEventAttr = `INSERT INTO event_attributes (account, attr, value, time, event_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	// sqlEventsChunkEnd finds the time of the deleteChunk-th oldest event before a bound.
	sqlEventsChunkEnd  = `SELECT time FROM events WHERE time < ? ORDER BY time LIMIT 1 OFFSET ?`
	sqlDeleteEvents    = `DELETE FROM events WHERE time < ?`
	sqlDeleteEventAttr = `DELETE FROM event_attributes WHERE time < ?`
	eventColumns       = `e.id, e.account, e.time, e.name, e.source, e.username, e.access_key_id, e.read_only, e.resources, e.data`
)

// deleteChunk is about how many events one retention transaction deletes, so that pruning a
// long trail never holds the database's write lock for long.
const deleteChunk = 2000

// eventWriter is the connection that appends events: one of its own, beside the writer of the
// group-committed Updates, so that the trail never counts as a change. The two take turns on
// Store.writeLock (and SQLite's write lock after it); an append holds them for one short
// transaction.
type eventWriter struct {
	mu sync.Mutex
	db *sql.DB   // opened on first use
	c  *sql.Conn // nil until first use or after it was dropped
	st [2]*sql.Stmt
}

// eventConn returns the events connection, opening it on first use. s.events.mu must be held.
func (s *Store) eventConn(ctx context.Context) (*sql.Conn, error) {
	w := &s.events
	if w.c != nil {
		return w.c, nil
	}
	if w.db == nil {
		db, err := sql.Open(driverName, dsn(s.path, false))
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		w.db = db
	}
	c, err := w.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	for i, text := range []string{sqlInsertEvent, sqlInsertEventAttr} {
		if w.st[i], err = c.PrepareContext(ctx, text); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("prepare %q: %w", text, err)
		}
	}
	w.c = c
	return c, nil
}

// dropEventConn throws the events connection away after a failure that may leave it inside a
// transaction. s.events.mu must be held.
func (s *Store) dropEventConn() {
	w := &s.events
	for i, st := range w.st {
		if st != nil {
			_ = st.Close()
			w.st[i] = nil
		}
	}
	if w.c != nil {
		_ = w.c.Raw(func(any) error { return driver.ErrBadConn })
		_ = w.c.Close()
		w.c = nil
	}
}

// closeEvents closes the events connection and its database.
func (s *Store) closeEvents() error {
	w := &s.events
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	for i, st := range w.st {
		if st != nil {
			errs = append(errs, st.Close())
			w.st[i] = nil
		}
	}
	if w.c != nil {
		errs = append(errs, w.c.Close())
		w.c = nil
	}
	if w.db != nil {
		errs = append(errs, w.db.Close())
		w.db = nil
	}
	return errors.Join(errs...)
}

// inEventTxn runs fn in a write transaction on the events connection and commits it (durably:
// synchronous=FULL). Statements run without ctx's cancellation once the transaction has begun.
func (s *Store) inEventTxn(ctx context.Context, fn func(ctx context.Context, c *sql.Conn) error) (err error) {
	if !s.gate.Enter() {
		return ErrClosed
	}
	defer s.gate.Leave()
	s.events.mu.Lock()
	defer s.events.mu.Unlock()
	s.writeLock.Lock()
	defer s.writeLock.Unlock()
	c, err := s.eventConn(ctx)
	if err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, beginWrite); err != nil {
		return err
	}
	wctx := context.WithoutCancel(ctx)
	if err := fn(wctx, c); err != nil {
		if _, rbErr := c.ExecContext(wctx, "ROLLBACK"); rbErr != nil {
			s.dropEventConn()
		}
		return err
	}
	if _, err := c.ExecContext(wctx, "COMMIT"); err != nil {
		// The commit may or may not have happened; do not trust the connection.
		s.dropEventConn()
		return fmt.Errorf("commit, the events may or may not be stored: %w", err)
	}
	return nil
}

// appendChunk is the most events one transaction of AppendEvents stores. An append holds the
// database's write lock, which the group-committed Updates of IAM wait for: a chunk of 256
// events holds it for about 15 ms (BenchmarkAppendEvents), not the 60 ms of a batch of 1,000.
const appendChunk = 256

// AppendEvents implements store.EventLog, durable on return. A long batch is stored in
// transactions of appendChunk events, so that Updates get the write lock in between; should one
// fail, the chunks before it stay stored, and a retry skips them (by id).
func (s *Store) AppendEvents(ctx context.Context, events []store.Event) error {
	for len(events) > 0 {
		n := min(len(events), appendChunk)
		if err := s.appendEvents(ctx, events[:n]); err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}

// appendEvents stores events in one transaction.
func (s *Store) appendEvents(ctx context.Context, events []store.Event) error {
	err := s.inEventTxn(ctx, func(ctx context.Context, c *sql.Conn) error {
		ins, insAttr := s.events.st[0], s.events.st[1]
		for _, ev := range events {
			t := ev.Time.UnixNano()
			res, err := ins.ExecContext(ctx, ev.Account, t, ev.ID, ev.Name, ev.Source, ev.Username, ev.AccessKeyID,
				ev.ReadOnly, string(store.EncodeEventResources(ev.Resources)), nonNil(ev.Data))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				continue // already stored (a retried batch)
			}
			for _, av := range store.EventAttributeValues(ev) {
				if _, err := insAttr.ExecContext(ctx, ev.Account, av[0], av[1], t, ev.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: append %d events: %w", len(events), err)
	}
	return nil
}

// DeleteEventsBefore implements store.EventLog, a chunk of the oldest events per transaction.
func (s *Store) DeleteEventsBefore(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	bound := before.UnixNano()
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("sqlite: delete events: %w", err)
		}
		var n int64
		err := s.inEventTxn(ctx, func(ctx context.Context, c *sql.Conn) error {
			end := bound
			var t int64
			switch err := c.QueryRowContext(ctx, sqlEventsChunkEnd, bound, deleteChunk).Scan(&t); {
			case err == nil:
				end = t + 1 // the chunk: every event up to and including t
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			res, err := c.ExecContext(ctx, sqlDeleteEvents, end)
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil {
				return err
			}
			_, err = c.ExecContext(ctx, sqlDeleteEventAttr, end)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sqlite: delete events: %w", err)
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}

// Events implements store.EventLog, on a read connection.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	if err := store.CheckEventQuery(q); err != nil {
		return nil, err
	}
	text, args := eventsSQL(q, func(int) string { return "?" })
	var out []store.Event
	err := s.View(ctx, func(ctx context.Context, stx store.Tx) error {
		rows, err := stx.(*tx).c.sql.QueryContext(ctx, text, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ev store.Event
			var t int64
			var resources string
			if err := rows.Scan(&ev.ID, &ev.Account, &t, &ev.Name, &ev.Source, &ev.Username, &ev.AccessKeyID, &ev.ReadOnly, &resources, &ev.Data); err != nil {
				return err
			}
			ev.Time = time.Unix(0, t).UTC()
			if ev.Resources, err = store.DecodeEventResources([]byte(resources)); err != nil {
				return err
			}
			out = append(out, ev)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	return out, nil
}

// eventsSQL is the query of q and its arguments; ph(n) writes the n-th placeholder (from 1).
// Without an attribute it walks an account's events newest first; with one, the attribute's
// rows in the same order, joined to their events; EventId is the one event of that id.
func eventsSQL(q store.EventQuery, ph func(n int) string) (string, []any) {
	var b strings.Builder
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return ph(len(args))
	}
	tcol, idcol := "e.time", "e.id"
	switch q.Attribute {
	case "":
		b.WriteString(`SELECT ` + eventColumns + ` FROM events e WHERE e.account = ` + arg(q.Account))
	case store.EventAttrEventID:
		b.WriteString(`SELECT ` + eventColumns + ` FROM events e WHERE e.id = ` + arg(q.Value) + ` AND e.account = ` + arg(q.Account))
	default:
		tcol, idcol = "a.time", "a.event_id"
		b.WriteString(`SELECT ` + eventColumns + ` FROM event_attributes a JOIN events e ON e.id = a.event_id WHERE a.account = ` +
			arg(q.Account) + ` AND a.attr = ` + arg(q.Attribute) + ` AND a.value = ` + arg(q.Value))
	}
	if !q.Start.IsZero() {
		b.WriteString(` AND ` + tcol + ` >= ` + arg(q.Start.UnixNano()))
	}
	if !q.End.IsZero() {
		b.WriteString(` AND ` + tcol + ` <= ` + arg(q.End.UnixNano()))
	}
	if q.Before != nil {
		b.WriteString(` AND (` + tcol + `, ` + idcol + `) < (` + arg(q.Before.Time.UnixNano()) + `, ` + arg(q.Before.ID) + `)`)
	}
	b.WriteString(` ORDER BY ` + tcol + ` DESC, ` + idcol + ` DESC`)
	if q.Limit > 0 {
		b.WriteString(` LIMIT ` + arg(q.Limit))
	}
	return b.String(), args
}
