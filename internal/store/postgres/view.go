package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// sqlBeginRead starts a View's transaction: one snapshot for all its reads.
const sqlBeginRead = `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`

// viewConn is the querier of a View. Its transaction begins with the first statement, in the same
// round trip (a pipelined batch of BEGIN and the statement), so that a View of one read (most of
// them: an API call reads one record) costs two round trips, not three.
type viewConn struct {
	c     *pgxpool.Conn
	begun bool
}

var errWriteInView = errors.New("postgres: write in a read-only transaction")

func (v *viewConn) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, errWriteInView
}

// first sends BEGIN and the statement together and returns the statement's results, after
// BEGIN's.
func (v *viewConn) first(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	b.Queue(sqlBeginRead)
	b.Queue(sql, args...)
	br := v.c.SendBatch(ctx, b)
	v.begun = true
	if _, err := br.Exec(); err != nil {
		return nil, errors.Join(err, br.Close())
	}
	return br, nil
}

func (v *viewConn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if v.begun {
		return v.c.Query(ctx, sql, args...)
	}
	br, err := v.first(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, errors.Join(err, br.Close())
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (v *viewConn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if v.begun {
		return v.c.QueryRow(ctx, sql, args...)
	}
	br, err := v.first(ctx, sql, args)
	if err != nil {
		return errRow{err}
	}
	return batchRow{row: br.QueryRow(), br: br}
}

// end finishes the View's transaction, when one began.
func (v *viewConn) end(ctx context.Context) error {
	if !v.begun {
		return nil
	}
	_, err := v.c.Exec(ctx, "ROLLBACK")
	return err
}

// batchRows closes the batch with the rows, so that the connection is free for the next statement.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// batchRow closes the batch once the row is scanned.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// errRow is a pgx.Row that fails.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
