package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-iam/gatehouse/internal/store/schema"
)

// migrationFiles holds the schema migrations, migrations/NNNN_name.sql, applied in order.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the advisory lock key under which migrations run, so that nodes starting
// together apply each migration once: 'gh' 'mi' 'gr' 'at' as bytes.
const migrationLock = 0x6768_6d69_6772_6174

// ErrSchemaOld is returned by Open with Options.NoMigrate when the database lacks migrations.
var ErrSchemaOld = errors.New("the database schema is older than this program's; run gatehouse migrate")

// Migrate applies the pending migrations to the database at dsn and returns the schema version;
// it is `gatehouse migrate`.
func Migrate(ctx context.Context, dsn string, logger *slog.Logger) (int, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("postgres: connect to %s: %w", Redact(dsn), unavailable(err))
	}
	defer c.Close(context.WithoutCancel(ctx))
	return migrate(ctx, c, true, logger)
}

// migrate brings the schema up to the newest embedded migration in one transaction (PostgreSQL's
// DDL is transactional: a failed migration changes nothing), or with apply false only checks that
// it is current. A database written by a newer Gatehouse is refused.
func migrate(ctx context.Context, c *pgx.Conn, apply bool, logger *slog.Logger) (version int, err error) {
	ms, err := schema.Load(migrationFiles, "migrations")
	if err != nil {
		return 0, err
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: begin: %w", unavailable(err))
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return 0, fmt.Errorf("migrate: lock: %w", unavailable(err))
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return 0, fmt.Errorf("migrate: create schema_version: %w", unavailable(err))
	}
	current, err := readVersion(ctx, tx)
	if err != nil {
		return 0, err
	}
	latest := ms[len(ms)-1].Version
	switch {
	case current > latest:
		return 0, fmt.Errorf("migrate: database schema version %d is newer than this program's %d; run a newer Gatehouse", current, latest)
	case current < latest && !apply:
		return 0, fmt.Errorf("migrate: schema version %d, this program's is %d: %w", current, latest, ErrSchemaOld)
	}
	for _, m := range ms[current:] {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return 0, fmt.Errorf("migrate: apply %s: %w", m.Name, unavailable(err))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return 0, fmt.Errorf("migrate: record %s: %w", m.Name, unavailable(err))
		}
		logger.InfoContext(ctx, "applied schema migration", slog.Int("version", m.Version), slog.String("name", m.Name))
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("migrate: commit: %w", unavailable(err))
	}
	return latest, nil
}

func readVersion(ctx context.Context, q querier) (int, error) {
	var v int
	if err := q.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", unavailable(err))
	}
	return v, nil
}
