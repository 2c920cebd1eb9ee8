package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/eventbatch"
)

var _ store.EventLog = (*Store)(nil)

// The statements of the audit trail (the schema: migrations/0002_events.sql; the form of a
// batch: internal/store/eventbatch).
const (
	sqlLastBatch   = `SELECT coalesce(max(seq), 0) FROM event_batches`
	sqlInsertIDs   = `INSERT INTO event_ids (id, batch) SELECT value, ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`
	sqlStoredIDs   = `SELECT i.id FROM json_each(?) j JOIN event_ids i ON i.id = j.value WHERE i.batch <> ?`
	sqlInsertBatch = `INSERT INTO event_batches (seq, account, min_time, max_time, count, summary, header) VALUES (?, ?, ?, ?, ?, ?, ?)`
	sqlInsertPart  = `INSERT INTO event_data (key, data) VALUES (?, ?)`
	// sqlBatches pages through an account's batches newest first (max_time descending, then seq
	// ascending: the order of the index, whose entries end with the rowid).
	sqlBatches = `SELECT seq, min_time, max_time, %s FROM event_batches
		WHERE account = ? AND max_time >= ? AND min_time <= ? AND (max_time < ? OR (max_time = ? AND seq > ?))
		ORDER BY max_time DESC, seq LIMIT ?`
	sqlBatchHeader = `SELECT header FROM event_batches WHERE seq = ?`
	sqlPart        = `SELECT data FROM event_data WHERE key = ?`
	sqlParts       = `SELECT data FROM event_data WHERE key >= ? AND key < ? ORDER BY key`
	sqlDeleteParts = `DELETE FROM event_data WHERE key >= ? AND key < ?`
	sqlBatchOf     = `SELECT i.batch FROM event_ids i JOIN event_batches b ON b.seq = i.batch WHERE i.id = ? AND b.account = ?`
	// sqlOldBatches are the batches holding events before a bound, oldest first.
	sqlOldBatches   = `SELECT seq, account, header FROM event_batches WHERE min_time < ? ORDER BY min_time LIMIT ?`
	sqlDeleteBatch  = `DELETE FROM event_batches WHERE seq = ?`
	sqlDeleteIDs    = `DELETE FROM event_ids WHERE id IN (SELECT value FROM json_each(?)) AND batch = ?`
	sqlRewriteBatch = `UPDATE event_batches SET min_time = ?, max_time = ?, count = ?, summary = ?, header = ? WHERE seq = ?`
)

// deleteChunk is how many batches one retention transaction deletes or rewrites at most, so that
// pruning a long trail never holds the database's write lock for long.
const deleteChunk = 4

// eventWriter is the connection that appends events: one of its own, beside the writer of the
// group-committed Updates, so that the trail never counts as a change. The two take turns on
// Store.writeLock (and SQLite's write lock after it); an append holds them for one short
// transaction.
type eventWriter struct {
	mu sync.Mutex
	db *sql.DB      // opened on first use
	c  *sql.Conn    // nil until first use or after it was dropped
	st [4]*sql.Stmt // sqlInsertIDs, sqlInsertBatch, sqlLastBatch, sqlInsertPart
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
	for i, text := range []string{sqlInsertIDs, sqlInsertBatch, sqlLastBatch, sqlInsertPart} {
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

// appendChunk is the most events one transaction of AppendEvents stores: one batch row per
// account (eventbatch.MaxEvents). An append holds the database's write lock, which the
// group-committed Updates of IAM wait for, for about 6 ms per thousand events, the fsync
// included (BenchmarkAppendEvents; the 256 events a transaction of the row-per-event schema took
// 15 ms).
const appendChunk = eventbatch.MaxEvents

// AppendEvents implements store.EventLog, durable on return. Events are stored in batch rows of
// one account's events each (eventbatch), up to appendChunk events a transaction, so that
// Updates get the write lock in between; should one fail, the chunks before it stay stored, and
// a retry skips them (by id, in event_ids). The batches are encoded before the transaction
// begins; one whose events were partly stored already is encoded again without them.
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
	groups := eventbatch.Group(events)
	batches := make([]eventbatch.Batch, len(groups))
	ids := make([]string, len(groups))
	for i, g := range groups {
		batches[i] = eventbatch.Encode(g)
		ids[i] = jsonStrings(eventbatch.IDs(g))
	}
	err := s.inEventTxn(ctx, func(ctx context.Context, c *sql.Conn) error {
		insIDs, insBatch, last, insPart := s.events.st[0], s.events.st[1], s.events.st[2], s.events.st[3]
		var seq int64
		if err := last.QueryRowContext(ctx).Scan(&seq); err != nil {
			return err
		}
		for i, g := range groups {
			seq++
			res, err := insIDs.ExecContext(ctx, seq, ids[i])
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			b := batches[i]
			if int(n) < len(g) { // some stored already (a retried batch): leave them out
				stored, err := storedIDs(ctx, c, ids[i], seq)
				if err != nil {
					return err
				}
				if g = eventbatch.Without(g, stored); len(g) == 0 {
					continue
				}
				b = eventbatch.Encode(g)
			}
			if _, err := insBatch.ExecContext(ctx, seq, b.Account, b.MinTime, b.MaxTime, b.Count, b.Summary, b.Header); err != nil {
				return err
			}
			if err := insertParts(ctx, insPart, seq, b.Parts); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: append %d events: %w", len(events), err)
	}
	return nil
}

// partKey is the key in event_data of part n of batch seq.
func partKey(seq int64, n int) int64 { return seq<<16 | int64(n) }

// insertParts stores the parts of batch seq.
func insertParts(ctx context.Context, ins *sql.Stmt, seq int64, parts [][]byte) error {
	for n, p := range parts {
		if _, err := ins.ExecContext(ctx, partKey(seq, n), nonNil(p)); err != nil {
			return err
		}
	}
	return nil
}

// storedIDs returns which of ids (a JSON array) another batch than seq holds.
func storedIDs(ctx context.Context, c *sql.Conn, ids string, seq int64) (map[string]bool, error) {
	rows, err := c.QueryContext(ctx, sqlStoredIDs, ids, seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// jsonStrings is the JSON array of ss, for json_each.
func jsonStrings(ss []string) string {
	n := 2
	for _, s := range ss {
		n += len(s) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return string(append(b, ']'))
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s) // a string: cannot fail
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// DeleteEventsBefore implements store.EventLog, up to deleteChunk batches per transaction: a
// batch whose events are all before the bound is deleted, one holding events on both sides of it
// is rewritten without the older ones (so that reads never see them, and a second call deletes
// nothing).
func (s *Store) DeleteEventsBefore(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	bound := before.UnixNano()
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("sqlite: delete events: %w", err)
		}
		var n int64
		batches := 0
		err := s.inEventTxn(ctx, func(ctx context.Context, c *sql.Conn) error {
			type old struct {
				seq     int64
				account string
				header  []byte
			}
			var olds []old
			rows, err := c.QueryContext(ctx, sqlOldBatches, bound, deleteChunk)
			if err != nil {
				return err
			}
			for rows.Next() {
				var o old
				if err := rows.Scan(&o.seq, &o.account, &o.header); err != nil {
					rows.Close()
					return err
				}
				olds = append(olds, o)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			batches = len(olds)
			for _, o := range olds {
				parts, err := readParts(ctx, c, o.seq)
				if err != nil {
					return err
				}
				evs, err := eventbatch.DecodeAll(o.account, o.header, parts)
				if err != nil {
					return fmt.Errorf("batch %d: %w", o.seq, err)
				}
				kept, gone := eventbatch.Prune(evs, bound)
				if _, err := c.ExecContext(ctx, sqlDeleteIDs, jsonStrings(gone), o.seq); err != nil {
					return err
				}
				n += int64(len(gone))
				if _, err := c.ExecContext(ctx, sqlDeleteParts, partKey(o.seq, 0), partKey(o.seq+1, 0)); err != nil {
					return err
				}
				if len(kept) == 0 {
					if _, err := c.ExecContext(ctx, sqlDeleteBatch, o.seq); err != nil {
						return err
					}
					continue
				}
				b := eventbatch.Encode(kept)
				if _, err := c.ExecContext(ctx, sqlRewriteBatch, b.MinTime, b.MaxTime, b.Count, b.Summary, b.Header, o.seq); err != nil {
					return err
				}
				if err := insertParts(ctx, s.events.st[3], o.seq, b.Parts); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("sqlite: delete events: %w", err)
		}
		total += n
		if batches < deleteChunk {
			return total, nil
		}
	}
}

// Events implements store.EventLog, on a read connection (one snapshot).
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	if err := store.CheckEventQuery(q); err != nil {
		return nil, err
	}
	var out []store.Event
	err := s.View(ctx, func(ctx context.Context, stx store.Tx) error {
		var err error
		out, err = eventbatch.Query(ctx, batchReader{stx.(*tx).c.sql}, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	return out, nil
}

// batchReader is eventbatch.Reader on a read connection.
type batchReader struct{ c *sql.Conn }

func (r batchReader) Batches(ctx context.Context, account string, lo, hi int64, after *eventbatch.Meta, n int, summaries bool) ([]eventbatch.Meta, error) {
	col := "x''"
	if summaries {
		col = "summary"
	}
	afterMax, afterSeq := int64(math.MaxInt64), int64(math.MaxInt64)
	if after != nil {
		afterMax, afterSeq = after.MaxTime, after.Seq
	}
	rows, err := r.c.QueryContext(ctx, fmt.Sprintf(sqlBatches, col), account, lo, hi, afterMax, afterMax, afterSeq, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []eventbatch.Meta
	for rows.Next() {
		var m eventbatch.Meta
		if err := rows.Scan(&m.Seq, &m.MinTime, &m.MaxTime, &m.Summary); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (r batchReader) Header(ctx context.Context, seq int64) ([]byte, bool, error) {
	var b []byte
	switch err := r.c.QueryRowContext(ctx, sqlBatchHeader, seq).Scan(&b); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return b, true, nil
}

func (r batchReader) Parts(ctx context.Context, seq int64, nums []int) ([][]byte, error) {
	out := make([][]byte, len(nums))
	for i, n := range nums {
		if err := r.c.QueryRowContext(ctx, sqlPart, partKey(seq, n)).Scan(&out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readParts reads every part of batch seq.
func readParts(ctx context.Context, c *sql.Conn, seq int64) ([][]byte, error) {
	rows, err := c.QueryContext(ctx, sqlParts, partKey(seq, 0), partKey(seq+1, 0))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var parts [][]byte
	for rows.Next() {
		var p []byte
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return parts, rows.Err()
}

func (r batchReader) BatchOf(ctx context.Context, account, id string) (int64, bool, error) {
	var seq int64
	switch err := r.c.QueryRowContext(ctx, sqlBatchOf, id, account).Scan(&seq); {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	return seq, true, nil
}
