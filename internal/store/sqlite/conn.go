package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
)

// conn is one SQLite connection with its prepared statements. A conn is used by one goroutine
// at a time: the writer owns its conn, and a View holds a reader until it returns it to the pool.
type conn struct {
	sql   *sql.Conn
	stmts [numStmts]*sql.Stmt
	list  [numListShapes]*sql.Stmt // prepared on first use; most shapes are never used
}

// openConn takes a connection out of db and keeps it; statements are prepared by prepare, once
// the schema exists.
func openConn(ctx context.Context, db *sql.DB) (*conn, error) {
	sc, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: connect: %w", err)
	}
	return &conn{sql: sc}, nil
}

// prepare prepares the fixed statements.
func (c *conn) prepare(ctx context.Context) error {
	for id, text := range statements {
		st, err := c.sql.PrepareContext(ctx, text)
		if err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", text, err)
		}
		c.stmts[id] = st
	}
	return nil
}

// stmt returns a fixed statement.
func (c *conn) stmt(id stmtID) *sql.Stmt { return c.stmts[id] }

// listStmt returns the statement of a List shape, preparing it on first use.
func (c *conn) listStmt(ctx context.Context, shape listShape) (*sql.Stmt, error) {
	if st := c.list[shape]; st != nil {
		return st, nil
	}
	text := listSQL(shape)
	st, err := c.sql.PrepareContext(ctx, text)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prepare %q: %w", text, err)
	}
	c.list[shape] = st
	return st, nil
}

// exec runs a fixed statement that returns no rows.
func (c *conn) exec(ctx context.Context, id stmtID) error {
	if _, err := c.stmts[id].ExecContext(ctx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", statements[id], err)
	}
	return nil
}

// discard closes the statements and the connection, and makes database/sql throw the
// connection away instead of handing it out again: it may still be inside a transaction.
func (c *conn) discard() {
	_ = c.closeStmts()
	_ = c.sql.Raw(func(any) error { return driver.ErrBadConn })
	_ = c.sql.Close()
}

// close closes the statements and the connection.
func (c *conn) close() error {
	return errors.Join(c.closeStmts(), c.sql.Close())
}

// closeStmts closes the prepared statements.
func (c *conn) closeStmts() error {
	var errs []error
	for _, st := range c.stmts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	for _, st := range c.list {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}
