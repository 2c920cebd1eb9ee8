package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/eventbatch"
)

var _ store.EventLog = (*Store)(nil)

// The statements of the audit trail (the schema: migrations/0002_events.sql; the form of a
// batch: internal/store/eventbatch). They run on the pool, in transactions of their own that
// neither lock nor count in the changes row: the trail is not a change any node caches.
const (
	// sqlInsertIDs takes a batch number and stores the ids of its events ($1) under it, but those
	// stored already; it returns the number and how many it stored.
	sqlInsertIDs = `WITH s AS (SELECT nextval('event_batches_seq') AS seq),
	ins AS (INSERT INTO event_ids (id, batch) SELECT i, s.seq FROM unnest($1::text[]) AS i, s ON CONFLICT DO NOTHING RETURNING 1)
	SELECT (SELECT seq FROM s), (SELECT count(*) FROM ins)`
	sqlStoredIDs   = `SELECT id FROM event_ids WHERE id = ANY($1::text[]) AND batch <> $2`
	sqlInsertBatch = `WITH b AS (INSERT INTO event_batches (seq, account, min_time, max_time, count, summary, header)
		VALUES ($1, $2, $3, $4, $5, $6, $7))
	INSERT INTO event_data (seq, part, data) SELECT $1, p - 1, d FROM unnest($8::bytea[]) WITH ORDINALITY AS u(d, p)`
	// sqlBatches pages through an account's batches newest first (the index's order).
	sqlBatches = `SELECT seq, min_time, max_time, CASE WHEN $7 THEN summary ELSE ''::bytea END FROM event_batches
		WHERE account = $1 AND max_time >= $2 AND min_time <= $3 AND (max_time < $4 OR (max_time = $4 AND seq > $5))
		ORDER BY max_time DESC, seq LIMIT $6`
	sqlBatchHeader = `SELECT header FROM event_batches WHERE seq = $1`
	sqlParts       = `SELECT data FROM event_data WHERE seq = $1 AND part = ANY($2::int[]) ORDER BY part`
	sqlAllParts    = `SELECT data FROM event_data WHERE seq = $1 ORDER BY part`
	sqlBatchOf     = `SELECT i.batch FROM event_ids i JOIN event_batches b ON b.seq = i.batch WHERE i.id = $1 AND b.account = $2`
	// sqlOldBatches are the batches holding events before a bound, oldest first; FOR UPDATE, so
	// that two nodes pruning at once do not both rewrite one.
	sqlOldBatches   = `SELECT seq, account, header FROM event_batches WHERE min_time < $1 ORDER BY min_time LIMIT $2 FOR UPDATE SKIP LOCKED`
	sqlDeleteBatch  = `DELETE FROM event_batches WHERE seq = $1`
	sqlDeleteIDs    = `DELETE FROM event_ids WHERE id = ANY($1::text[]) AND batch = $2`
	sqlDeleteParts  = `DELETE FROM event_data WHERE seq = $1`
	sqlRewriteBatch = `WITH b AS (UPDATE event_batches SET min_time = $2, max_time = $3, count = $4, summary = $5, header = $6 WHERE seq = $1)
	INSERT INTO event_data (seq, part, data) SELECT $1, p - 1, d FROM unnest($7::bytea[]) WITH ORDINALITY AS u(d, p)`
)

// deleteChunk is how many batches one retention transaction deletes or rewrites at most.
const deleteChunk = 16

// AppendEvents implements store.EventLog: the events in one transaction, a batch row (and its
// parts) per account and eventbatch.MaxEvents events, durable when the commit returns. The ids
// go first: those stored already (a retried batch) are left out of the batch row.
func (s *Store) AppendEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	if !s.gate.Enter() {
		return ErrClosed
	}
	defer s.gate.Leave()
	groups := eventbatch.Split(eventbatch.Group(events))
	batches := make([]eventbatch.Batch, len(groups))
	for i, g := range groups {
		batches[i] = eventbatch.Encode(g)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for i, g := range groups {
			ids := eventbatch.IDs(g)
			var seq, n int64
			if err := tx.QueryRow(ctx, sqlInsertIDs, ids).Scan(&seq, &n); err != nil {
				return err
			}
			b := batches[i]
			if int(n) < len(g) {
				rows, err := tx.Query(ctx, sqlStoredIDs, ids, seq)
				if err != nil {
					return err
				}
				stored := map[string]bool{}
				for rows.Next() {
					var id string
					if err := rows.Scan(&id); err != nil {
						rows.Close()
						return err
					}
					stored[id] = true
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
				if g = eventbatch.Without(g, stored); len(g) == 0 {
					continue
				}
				b = eventbatch.Encode(g)
			}
			if _, err := tx.Exec(ctx, sqlInsertBatch, seq, b.Account, b.MinTime, b.MaxTime, b.Count, b.Summary, b.Header, b.Parts); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: append %d events: %w", len(events), unavailable(err))
	}
	return nil
}

// DeleteEventsBefore implements store.EventLog, up to deleteChunk batches per transaction: a
// batch whose events are all before the bound is deleted, one holding events on both sides of it
// is rewritten without the older ones (so that reads never see them, and a second call deletes
// nothing).
func (s *Store) DeleteEventsBefore(ctx context.Context, before time.Time) (int64, error) {
	if !s.gate.Enter() {
		return 0, ErrClosed
	}
	defer s.gate.Leave()
	bound := before.UnixNano()
	var total int64
	for {
		var n int64
		batches := 0
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			type old struct {
				seq     int64
				account string
				header  []byte
			}
			var olds []old
			rows, err := tx.Query(ctx, sqlOldBatches, bound, deleteChunk)
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
				parts, err := readParts(ctx, tx, sqlAllParts, o.seq)
				if err != nil {
					return err
				}
				evs, err := eventbatch.DecodeAll(o.account, o.header, parts)
				if err != nil {
					return fmt.Errorf("batch %d: %w", o.seq, err)
				}
				kept, gone := eventbatch.Prune(evs, bound)
				if _, err := tx.Exec(ctx, sqlDeleteIDs, gone, o.seq); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, sqlDeleteParts, o.seq); err != nil {
					return err
				}
				n += int64(len(gone))
				if len(kept) == 0 {
					if _, err := tx.Exec(ctx, sqlDeleteBatch, o.seq); err != nil {
						return err
					}
					continue
				}
				b := eventbatch.Encode(kept)
				if _, err := tx.Exec(ctx, sqlRewriteBatch, o.seq, b.MinTime, b.MaxTime, b.Count, b.Summary, b.Header, b.Parts); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("postgres: delete events: %w", unavailable(err))
		}
		total += n
		if batches < deleteChunk {
			return total, nil
		}
	}
}

// readParts runs a query of parts of batch seq (and args) and returns their data in order.
func readParts(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, text string, seq int64, args ...any) ([][]byte, error) {
	rows, err := q.Query(ctx, text, append([]any{seq}, args...)...)
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

// Events implements store.EventLog, in a read-only transaction of one snapshot (REPEATABLE
// READ), so that retention between its reads cannot tear a page.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	if err := store.CheckEventQuery(q); err != nil {
		return nil, err
	}
	if !s.gate.Enter() {
		return nil, ErrClosed
	}
	defer s.gate.Leave()
	var out []store.Event
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		out, err = eventbatch.Query(ctx, batchReader{tx}, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: events: %w", unavailable(err))
	}
	return out, nil
}

// batchReader is eventbatch.Reader in a transaction.
type batchReader struct{ tx pgx.Tx }

func (r batchReader) Batches(ctx context.Context, account string, lo, hi int64, after *eventbatch.Meta, n int, summaries bool) ([]eventbatch.Meta, error) {
	afterMax, afterSeq := int64(1<<63-1), int64(1<<63-1)
	if after != nil {
		afterMax, afterSeq = after.MaxTime, after.Seq
	}
	rows, err := r.tx.Query(ctx, sqlBatches, account, lo, hi, afterMax, afterSeq, n, summaries)
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
	switch err := r.tx.QueryRow(ctx, sqlBatchHeader, seq).Scan(&b); {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return b, true, nil
}

func (r batchReader) Parts(ctx context.Context, seq int64, nums []int) ([][]byte, error) {
	return readParts(ctx, r.tx, sqlParts, seq, nums)
}

func (r batchReader) BatchOf(ctx context.Context, account, id string) (int64, bool, error) {
	var seq int64
	switch err := r.tx.QueryRow(ctx, sqlBatchOf, id, account).Scan(&seq); {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	return seq, true, nil
}
