package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gatehouse-iam/gatehouse/internal/store/schema"
)

// migrationFiles holds the schema migrations, migrations/NNNN_name.sql, applied in order.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate brings the schema of the database behind c up to the last of ms, in one write
// transaction: a process that opens the file at the same time waits for it, then finds nothing
// left to do. It returns the schema version. A database written by a newer Gatehouse (a version
// beyond ms) is refused rather than used with a schema this code does not know.
func migrate(ctx context.Context, c *sql.Conn, ms []schema.Migration, logger *slog.Logger) (version int, err error) {
	if _, err := c.ExecContext(ctx, beginWrite); err != nil {
		return 0, fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			if _, rbErr := c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rbErr != nil {
				err = errors.Join(err, fmt.Errorf("migrate: rollback: %w", rbErr))
			}
		}
	}()
	if _, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return 0, fmt.Errorf("migrate: create schema_version: %w", err)
	}
	var current int
	if err := c.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return 0, fmt.Errorf("migrate: read schema version: %w", err)
	}
	latest := ms[len(ms)-1].Version
	if current > latest {
		return 0, fmt.Errorf("migrate: database schema version %d is newer than this program's %d; run a newer Gatehouse", current, latest)
	}
	for _, m := range ms[current:] {
		if _, err := c.ExecContext(ctx, m.SQL); err != nil {
			return 0, fmt.Errorf("migrate: apply %s: %w", m.Name, err)
		}
		if _, err := c.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, CURRENT_TIMESTAMP)`, m.Version, m.Name); err != nil {
			return 0, fmt.Errorf("migrate: record %s: %w", m.Name, err)
		}
		logger.InfoContext(ctx, "applied schema migration", slog.Int("version", m.Version), slog.String("name", m.Name))
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, fmt.Errorf("migrate: commit: %w", err)
	}
	return latest, nil
}
