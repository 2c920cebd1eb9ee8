package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// ErrReadOnly is returned by the write methods of the transaction a View runs.
var ErrReadOnly = errors.New("postgres: write in a read-only transaction")

// querier is what a tx runs its statements on: a pool transaction (View) or the write
// connection inside the batch's transaction (Update).
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// tx is a store.Tx. A write tx belongs to one Update's fn inside a batch; its statements run
// under the writer's context with a timeout, not the caller's (an interrupted statement would
// abort the whole batch), and the caller's context is checked before each statement instead.
type tx struct {
	q       querier
	write   bool
	timeout time.Duration
	// broken is the first failure of a statement: PostgreSQL has aborted the transaction (up to
	// the request's savepoint) and refuses every later statement, so every later call returns it.
	broken error
}

var _ store.Tx = (*tx)(nil)

// stmt returns the context a statement runs under, or the error that stops it before it runs.
func (t *tx) stmt(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if t.broken != nil {
		return nil, nil, t.broken
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if t.write {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.timeout)
		return sctx, cancel, nil
	}
	return ctx, func() {}, nil
}

// writeStmt is stmt for the write methods.
func (t *tx) writeStmt(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if !t.write {
		return nil, nil, ErrReadOnly
	}
	return t.stmt(ctx)
}

// fail records err as having aborted the transaction and returns it, marked unavailable when it
// comes from losing the database.
func (t *tx) fail(err error) error {
	err = unavailable(err)
	if t.broken == nil {
		t.broken = err
	}
	return err
}

// nullable stores an empty id as NULL, which the unique (kind, id) index ignores.
func nullable(id string) any {
	if id == "" {
		return nil
	}
	return id
}

// nonNil stores nil Data as an empty value: the column is NOT NULL.
func nonNil(data []byte) []byte {
	if data == nil {
		return []byte{}
	}
	return data
}

// Get returns the record (account, kind, key).
func (t *tx) Get(ctx context.Context, kind store.Kind, account, key string) (store.Record, error) {
	rec := store.Record{Account: account, Kind: kind, Key: key}
	sctx, cancel, err := t.stmt(ctx)
	if err != nil {
		return rec, fmt.Errorf("postgres: get %s %q: %w", kind, key, err)
	}
	defer cancel()
	var id *string
	err = t.q.QueryRow(sctx, sqlGet, account, string(kind), key).Scan(&id, &rec.Path, &rec.Data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return rec, fmt.Errorf("postgres: get %s %q in account %q: %w", kind, key, account, store.ErrNotFound)
	case err != nil:
		return rec, fmt.Errorf("postgres: get %s %q: %w", kind, key, t.fail(err))
	}
	if id != nil {
		rec.ID = *id
	}
	return rec, nil
}

// GetByID returns the record of kind with id, in whichever account it lives.
func (t *tx) GetByID(ctx context.Context, kind store.Kind, id string) (store.Record, error) {
	rec := store.Record{Kind: kind, ID: id}
	sctx, cancel, err := t.stmt(ctx)
	if err != nil {
		return rec, fmt.Errorf("postgres: get %s by id %q: %w", kind, id, err)
	}
	defer cancel()
	if id == "" {
		return rec, fmt.Errorf("postgres: get %s by empty id: %w", kind, store.ErrNotFound)
	}
	err = t.q.QueryRow(sctx, sqlGetByID, string(kind), id).Scan(&rec.Account, &rec.Key, &rec.Path, &rec.Data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return rec, fmt.Errorf("postgres: get %s by id %q: %w", kind, id, store.ErrNotFound)
	case err != nil:
		return rec, fmt.Errorf("postgres: get %s by id %q: %w", kind, id, t.fail(err))
	}
	return rec, nil
}

// Insert adds rec.
func (t *tx) Insert(ctx context.Context, rec store.Record) error {
	sctx, cancel, err := t.writeStmt(ctx)
	if err != nil {
		return fmt.Errorf("postgres: insert %s %q: %w", rec.Kind, rec.Key, err)
	}
	defer cancel()
	tag, err := t.q.Exec(sctx, sqlInsert, rec.Account, string(rec.Kind), rec.Key, nullable(rec.ID), rec.Path, nonNil(rec.Data))
	switch {
	case err != nil:
		return fmt.Errorf("postgres: insert %s %q: %w", rec.Kind, rec.Key, t.fail(err))
	case tag.RowsAffected() == 0:
		return fmt.Errorf("postgres: insert %s %q (id %q) in account %q: key or id taken: %w", rec.Kind, rec.Key, rec.ID, rec.Account, store.ErrExists)
	}
	return nil
}

// Replace overwrites the record with rec's key.
func (t *tx) Replace(ctx context.Context, rec store.Record) error {
	sctx, cancel, err := t.writeStmt(ctx)
	if err != nil {
		return fmt.Errorf("postgres: replace %s %q: %w", rec.Kind, rec.Key, err)
	}
	defer cancel()
	tag, err := t.q.Exec(sctx, sqlReplace, rec.Account, string(rec.Kind), rec.Key, nullable(rec.ID), rec.Path, nonNil(rec.Data))
	if err != nil {
		return fmt.Errorf("postgres: replace %s %q: %w", rec.Kind, rec.Key, t.fail(err))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := t.q.QueryRow(sctx, sqlExists, rec.Account, string(rec.Kind), rec.Key).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: replace %s %q: %w", rec.Kind, rec.Key, t.fail(err))
	}
	if exists {
		return fmt.Errorf("postgres: replace %s %q in account %q: id %q taken: %w", rec.Kind, rec.Key, rec.Account, rec.ID, store.ErrExists)
	}
	return fmt.Errorf("postgres: replace %s %q in account %q: %w", rec.Kind, rec.Key, rec.Account, store.ErrNotFound)
}

// Delete removes the record (account, kind, key).
func (t *tx) Delete(ctx context.Context, kind store.Kind, account, key string) error {
	sctx, cancel, err := t.writeStmt(ctx)
	if err != nil {
		return fmt.Errorf("postgres: delete %s %q: %w", kind, key, err)
	}
	defer cancel()
	tag, err := t.q.Exec(sctx, sqlDelete, account, string(kind), key)
	switch {
	case err != nil:
		return fmt.Errorf("postgres: delete %s %q: %w", kind, key, t.fail(err))
	case tag.RowsAffected() == 0:
		return fmt.Errorf("postgres: delete %s %q in account %q: %w", kind, key, account, store.ErrNotFound)
	}
	return nil
}

// List returns the records of kind in account that q selects, in key order.
func (t *tx) List(ctx context.Context, kind store.Kind, account string, q store.Query) ([]store.Record, error) {
	sctx, cancel, err := t.stmt(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: list %s: %w", kind, err)
	}
	defer cancel()
	args := make([]any, 3, 8)
	args[0], args[1], args[2] = account, string(kind), q.Prefix
	keyEnd, keyBelow := prefixEnd(q.Prefix)
	if keyBelow {
		args = append(args, keyEnd)
	}
	if q.After != "" {
		args = append(args, q.After)
	}
	var pathEnd string
	pathBelow := false
	if q.PathPrefix != "" {
		args = append(args, q.PathPrefix)
		if pathEnd, pathBelow = prefixEnd(q.PathPrefix); pathBelow {
			args = append(args, pathEnd)
		}
	}
	if q.Limit > 0 {
		args = append(args, q.Limit)
	}
	rows, err := t.q.Query(sctx, listSQL(keyBelow, q.After != "", q.PathPrefix != "", pathBelow, q.Limit > 0), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list %s: %w", kind, t.fail(err))
	}
	defer rows.Close()
	var recs []store.Record
	for rows.Next() {
		rec := store.Record{Account: account, Kind: kind}
		var id *string
		if err := rows.Scan(&rec.Key, &id, &rec.Path, &rec.Data); err != nil {
			return nil, fmt.Errorf("postgres: list %s: %w", kind, t.fail(err))
		}
		if id != nil {
			rec.ID = *id
		}
		recs = append(recs, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list %s: %w", kind, t.fail(err))
	}
	return recs, nil
}

// Count returns how many records of kind in account have a key starting with prefix.
func (t *tx) Count(ctx context.Context, kind store.Kind, account, prefix string) (int, error) {
	sctx, cancel, err := t.stmt(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: count %s: %w", kind, err)
	}
	defer cancel()
	var n int
	if end, ok := prefixEnd(prefix); ok {
		err = t.q.QueryRow(sctx, sqlCountEnd, account, string(kind), prefix, end).Scan(&n)
	} else {
		err = t.q.QueryRow(sctx, sqlCount, account, string(kind), prefix).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: count %s: %w", kind, t.fail(err))
	}
	return n, nil
}

// AddLink adds l.
func (t *tx) AddLink(ctx context.Context, l store.Link) error {
	sctx, cancel, err := t.writeStmt(ctx)
	if err != nil {
		return fmt.Errorf("postgres: add %s link: %w", l.Kind, err)
	}
	defer cancel()
	tag, err := t.q.Exec(sctx, sqlAddLink, l.Account, string(l.Kind), l.From, l.To)
	switch {
	case err != nil:
		return fmt.Errorf("postgres: add %s link: %w", l.Kind, t.fail(err))
	case tag.RowsAffected() == 0:
		return fmt.Errorf("postgres: add %s link %q -> %q in account %q: %w", l.Kind, l.From, l.To, l.Account, store.ErrExists)
	}
	return nil
}

// RemoveLink removes l.
func (t *tx) RemoveLink(ctx context.Context, l store.Link) error {
	sctx, cancel, err := t.writeStmt(ctx)
	if err != nil {
		return fmt.Errorf("postgres: remove %s link: %w", l.Kind, err)
	}
	defer cancel()
	tag, err := t.q.Exec(sctx, sqlRmLink, l.Account, string(l.Kind), l.From, l.To)
	switch {
	case err != nil:
		return fmt.Errorf("postgres: remove %s link: %w", l.Kind, t.fail(err))
	case tag.RowsAffected() == 0:
		return fmt.Errorf("postgres: remove %s link %q -> %q in account %q: %w", l.Kind, l.From, l.To, l.Account, store.ErrNotFound)
	}
	return nil
}

// LinksFrom returns the links of kind from from, ordered by To.
func (t *tx) LinksFrom(ctx context.Context, account string, kind store.LinkKind, from string) ([]store.Link, error) {
	return t.links(ctx, sqlLinksFr, store.Link{Account: account, Kind: kind, From: from}, false)
}

// LinksTo returns the links of kind to to, ordered by From.
func (t *tx) LinksTo(ctx context.Context, account string, kind store.LinkKind, to string) ([]store.Link, error) {
	return t.links(ctx, sqlLinksTo, store.Link{Account: account, Kind: kind, To: to}, true)
}

// links runs LinksFrom or LinksTo (toEnd); end holds the fixed end, and each row the other.
func (t *tx) links(ctx context.Context, query string, end store.Link, toEnd bool) ([]store.Link, error) {
	fixed, other := end.From, func(l *store.Link) *string { return &l.To }
	if toEnd {
		fixed, other = end.To, func(l *store.Link) *string { return &l.From }
	}
	sctx, cancel, err := t.stmt(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s links of %q: %w", end.Kind, fixed, err)
	}
	defer cancel()
	rows, err := t.q.Query(sctx, query, end.Account, string(end.Kind), fixed)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s links of %q: %w", end.Kind, fixed, t.fail(err))
	}
	defer rows.Close()
	var links []store.Link
	for rows.Next() {
		l := end
		if err := rows.Scan(other(&l)); err != nil {
			return nil, fmt.Errorf("postgres: %s links of %q: %w", end.Kind, fixed, t.fail(err))
		}
		links = append(links, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: %s links of %q: %w", end.Kind, fixed, t.fail(err))
	}
	return links, nil
}
