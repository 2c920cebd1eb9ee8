package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// ErrReadOnly is returned by the write methods of the transaction a View runs.
var ErrReadOnly = errors.New("sqlite: write in a read-only transaction")

// tx is a store.Tx on one connection, inside a transaction this package began.
//
// A write tx belongs to one Update's fn inside a group-commit batch. Its statements run under
// the writer's own context, not the caller's: an interrupted statement may make SQLite roll back
// the whole transaction, and with it every other request of the batch. The caller's context is
// checked before each statement instead.
type tx struct {
	c     *conn
	write bool
	// wctx is the context the statements of a write tx run under: the writer's.
	wctx context.Context
	// broken is the first failure after which this tx's transaction may no longer be intact
	// (anything but a constraint violation); every later call returns it, so that a statement
	// never runs outside the transaction (and the batch) if SQLite rolled it back.
	broken error
}

var _ store.Tx = (*tx)(nil)

// check returns the error that stops a statement before it runs.
func (t *tx) check(ctx context.Context) error {
	if t.broken != nil {
		return t.broken
	}
	return ctx.Err()
}

// sctx returns the context a statement runs under: the caller's ctx in a View, so that
// cancelling it interrupts a long read, and the writer's in an Update.
func (t *tx) sctx(ctx context.Context) context.Context {
	if t.write {
		return t.wctx
	}
	return ctx
}

// checkWrite is check for the write methods.
func (t *tx) checkWrite(ctx context.Context) error {
	if !t.write {
		return ErrReadOnly
	}
	return t.check(ctx)
}

// fail records err as breaking the transaction unless SQLite keeps the transaction intact
// after it, and returns err.
func (t *tx) fail(err error) error {
	if !isConstraintViolation(err) && t.broken == nil {
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

// nonNil stores nil Data as an empty blob: the column is NOT NULL.
func nonNil(data []byte) []byte {
	if data == nil {
		return []byte{}
	}
	return data
}

// Get returns the record (account, kind, key).
func (t *tx) Get(ctx context.Context, kind store.Kind, account, key string) (store.Record, error) {
	rec := store.Record{Account: account, Kind: kind, Key: key}
	if err := t.check(ctx); err != nil {
		return rec, fmt.Errorf("sqlite: get %s %q: %w", kind, key, err)
	}
	var id sql.NullString
	err := t.c.stmt(stmtGet).QueryRowContext(t.sctx(ctx), account, string(kind), key).Scan(&id, &rec.Path, &rec.Data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return rec, fmt.Errorf("sqlite: get %s %q in account %q: %w", kind, key, account, store.ErrNotFound)
	case err != nil:
		return rec, fmt.Errorf("sqlite: get %s %q: %w", kind, key, t.fail(err))
	}
	rec.ID = id.String
	return rec, nil
}

// GetByID returns the record of kind with id, in whichever account it lives.
func (t *tx) GetByID(ctx context.Context, kind store.Kind, id string) (store.Record, error) {
	rec := store.Record{Kind: kind, ID: id}
	if err := t.check(ctx); err != nil {
		return rec, fmt.Errorf("sqlite: get %s by id %q: %w", kind, id, err)
	}
	if id == "" {
		return rec, fmt.Errorf("sqlite: get %s by empty id: %w", kind, store.ErrNotFound)
	}
	err := t.c.stmt(stmtGetByID).QueryRowContext(t.sctx(ctx), string(kind), id).Scan(&rec.Account, &rec.Key, &rec.Path, &rec.Data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return rec, fmt.Errorf("sqlite: get %s by id %q: %w", kind, id, store.ErrNotFound)
	case err != nil:
		return rec, fmt.Errorf("sqlite: get %s by id %q: %w", kind, id, t.fail(err))
	}
	return rec, nil
}

// Insert adds rec.
func (t *tx) Insert(ctx context.Context, rec store.Record) error {
	if err := t.checkWrite(ctx); err != nil {
		return fmt.Errorf("sqlite: insert %s %q: %w", rec.Kind, rec.Key, err)
	}
	_, err := t.c.stmt(stmtInsert).ExecContext(t.sctx(ctx), rec.Account, string(rec.Kind), rec.Key, nullable(rec.ID), rec.Path, nonNil(rec.Data))
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("sqlite: insert %s %q (id %q) in account %q: key or id taken: %w", rec.Kind, rec.Key, rec.ID, rec.Account, store.ErrExists)
	case err != nil:
		return fmt.Errorf("sqlite: insert %s %q: %w", rec.Kind, rec.Key, t.fail(err))
	}
	return nil
}

// Replace overwrites the id, path and data of the record with rec's (Account, Kind, Key).
func (t *tx) Replace(ctx context.Context, rec store.Record) error {
	if err := t.checkWrite(ctx); err != nil {
		return fmt.Errorf("sqlite: replace %s %q: %w", rec.Kind, rec.Key, err)
	}
	res, err := t.c.stmt(stmtReplace).ExecContext(t.sctx(ctx), nullable(rec.ID), rec.Path, nonNil(rec.Data), rec.Account, string(rec.Kind), rec.Key)
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("sqlite: replace %s %q in account %q: id %q taken: %w", rec.Kind, rec.Key, rec.Account, rec.ID, store.ErrExists)
	case err != nil:
		return fmt.Errorf("sqlite: replace %s %q: %w", rec.Kind, rec.Key, t.fail(err))
	}
	if err := t.one(res); err != nil {
		return fmt.Errorf("sqlite: replace %s %q in account %q: %w", rec.Kind, rec.Key, rec.Account, err)
	}
	return nil
}

// Delete removes the record (account, kind, key).
func (t *tx) Delete(ctx context.Context, kind store.Kind, account, key string) error {
	if err := t.checkWrite(ctx); err != nil {
		return fmt.Errorf("sqlite: delete %s %q: %w", kind, key, err)
	}
	res, err := t.c.stmt(stmtDelete).ExecContext(t.sctx(ctx), account, string(kind), key)
	if err != nil {
		return fmt.Errorf("sqlite: delete %s %q: %w", kind, key, t.fail(err))
	}
	if err := t.one(res); err != nil {
		return fmt.Errorf("sqlite: delete %s %q in account %q: %w", kind, key, account, err)
	}
	return nil
}

// one turns a statement result into ErrNotFound when it touched no row.
func (t *tx) one(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return t.fail(err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// List returns the records of kind in account that q selects, in key order.
func (t *tx) List(ctx context.Context, kind store.Kind, account string, q store.Query) ([]store.Record, error) {
	if err := t.check(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: list %s: %w", kind, err)
	}
	var shape listShape
	args := make([]any, 3, 8)
	args[0], args[1], args[2] = account, string(kind), q.Prefix
	if end, ok := prefixEnd(q.Prefix); ok {
		shape |= listKeyBelow
		args = append(args, end)
	}
	if q.After != "" {
		shape |= listAfter
		args = append(args, q.After)
	}
	if q.PathPrefix != "" {
		shape |= listPath
		args = append(args, q.PathPrefix)
		if end, ok := prefixEnd(q.PathPrefix); ok {
			shape |= listPathBelow
			args = append(args, end)
		}
	}
	if q.Limit > 0 {
		shape |= listLimit
		args = append(args, q.Limit)
	}
	st, err := t.c.listStmt(t.sctx(ctx), shape)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list %s: %w", kind, t.fail(err))
	}
	rows, err := st.QueryContext(t.sctx(ctx), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list %s: %w", kind, t.fail(err))
	}
	defer rows.Close()
	var recs []store.Record
	for rows.Next() {
		rec := store.Record{Account: account, Kind: kind}
		var id sql.NullString
		if err := rows.Scan(&rec.Key, &id, &rec.Path, &rec.Data); err != nil {
			return nil, fmt.Errorf("sqlite: list %s: %w", kind, t.fail(err))
		}
		rec.ID = id.String
		recs = append(recs, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list %s: %w", kind, t.fail(err))
	}
	return recs, nil
}

// Count returns how many records of kind in account have a key starting with prefix.
func (t *tx) Count(ctx context.Context, kind store.Kind, account, prefix string) (int, error) {
	if err := t.check(ctx); err != nil {
		return 0, fmt.Errorf("sqlite: count %s: %w", kind, err)
	}
	var n int
	var err error
	if end, ok := prefixEnd(prefix); ok {
		err = t.c.stmt(stmtCountBelow).QueryRowContext(t.sctx(ctx), account, string(kind), prefix, end).Scan(&n)
	} else {
		err = t.c.stmt(stmtCount).QueryRowContext(t.sctx(ctx), account, string(kind), prefix).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: count %s: %w", kind, t.fail(err))
	}
	return n, nil
}

// AddLink adds l.
func (t *tx) AddLink(ctx context.Context, l store.Link) error {
	if err := t.checkWrite(ctx); err != nil {
		return fmt.Errorf("sqlite: add %s link: %w", l.Kind, err)
	}
	_, err := t.c.stmt(stmtAddLink).ExecContext(t.sctx(ctx), l.Account, string(l.Kind), l.From, l.To)
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("sqlite: add %s link %q -> %q in account %q: %w", l.Kind, l.From, l.To, l.Account, store.ErrExists)
	case err != nil:
		return fmt.Errorf("sqlite: add %s link: %w", l.Kind, t.fail(err))
	}
	return nil
}

// RemoveLink removes l.
func (t *tx) RemoveLink(ctx context.Context, l store.Link) error {
	if err := t.checkWrite(ctx); err != nil {
		return fmt.Errorf("sqlite: remove %s link: %w", l.Kind, err)
	}
	res, err := t.c.stmt(stmtRemoveLink).ExecContext(t.sctx(ctx), l.Account, string(l.Kind), l.From, l.To)
	if err != nil {
		return fmt.Errorf("sqlite: remove %s link: %w", l.Kind, t.fail(err))
	}
	if err := t.one(res); err != nil {
		return fmt.Errorf("sqlite: remove %s link %q -> %q in account %q: %w", l.Kind, l.From, l.To, l.Account, err)
	}
	return nil
}

// LinksFrom returns the links of kind from from, ordered by To.
func (t *tx) LinksFrom(ctx context.Context, account string, kind store.LinkKind, from string) ([]store.Link, error) {
	return t.links(ctx, stmtLinksFrom, store.Link{Account: account, Kind: kind, From: from})
}

// LinksTo returns the links of kind to to, ordered by From.
func (t *tx) LinksTo(ctx context.Context, account string, kind store.LinkKind, to string) ([]store.Link, error) {
	return t.links(ctx, stmtLinksTo, store.Link{Account: account, Kind: kind, To: to})
}

// links runs LinksFrom or LinksTo; end holds the fixed end, and each row the other.
func (t *tx) links(ctx context.Context, id stmtID, end store.Link) ([]store.Link, error) {
	fixed, other := &end.From, func(l *store.Link) *string { return &l.To }
	if id == stmtLinksTo {
		fixed, other = &end.To, func(l *store.Link) *string { return &l.From }
	}
	if err := t.check(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: %s links of %q: %w", end.Kind, *fixed, err)
	}
	rows, err := t.c.stmt(id).QueryContext(t.sctx(ctx), end.Account, string(end.Kind), *fixed)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s links of %q: %w", end.Kind, *fixed, t.fail(err))
	}
	defer rows.Close()
	var links []store.Link
	for rows.Next() {
		l := end
		if err := rows.Scan(other(&l)); err != nil {
			return nil, fmt.Errorf("sqlite: %s links of %q: %w", end.Kind, *fixed, t.fail(err))
		}
		links = append(links, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s links of %q: %w", end.Kind, *fixed, t.fail(err))
	}
	return links, nil
}
