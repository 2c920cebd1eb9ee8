package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFiles holds the schema migrations, migrations/NNNN_name.sql, applied in order.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string // file name, recorded in schema_version
	sql     string
}

// parseMigrationName reads the version out of a migration file name such as "0001_init.sql":
// at least four decimal digits, an underscore, a non-empty name and the .sql extension.
func parseMigrationName(name string) (int, error) {
	base, ok := strings.CutSuffix(name, ".sql")
	if !ok {
		return 0, fmt.Errorf("migration %q: name does not end in .sql", name)
	}
	num, label, ok := strings.Cut(base, "_")
	if !ok || label == "" {
		return 0, fmt.Errorf("migration %q: name is not NNNN_name.sql", name)
	}
	if len(num) < 4 {
		return 0, fmt.Errorf("migration %q: version %q has fewer than four digits", name, num)
	}
	for _, r := range num {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("migration %q: version %q is not decimal digits", name, num)
		}
	}
	v, err := strconv.Atoi(num)
	if err != nil {
		return 0, fmt.Errorf("migration %q: version %q: %w", name, num, err)
	}
	if v < 1 {
		return 0, fmt.Errorf("migration %q: versions start at 1", name)
	}
	return v, nil
}

// loadMigrations reads the migrations in dir of fsys. Versions must run 1, 2, 3... without gaps
// or duplicates, so that a missing file is found at build time rather than skipped.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		v, err := parseMigrationName(e.Name())
		if err != nil {
			return nil, err
		}
		text, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(text)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %q: expected version %d (versions must be 1, 2, 3... without gaps or duplicates)", m.name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations")
	}
	return ms, nil
}

// migrate brings the schema of the database behind c up to the last of ms, in one write
// transaction: a process that opens the file at the same time waits for it, then finds nothing
// left to do. It returns the schema version. A database written by a newer Gatehouse (a version
// beyond ms) is refused rather than used with a schema this code does not know.
func migrate(ctx context.Context, c *sql.Conn, ms []migration, logger *slog.Logger) (version int, err error) {
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
	latest := ms[len(ms)-1].version
	if current > latest {
		return 0, fmt.Errorf("migrate: database schema version %d is newer than this program's %d; run a newer Gatehouse", current, latest)
	}
	for _, m := range ms[current:] {
		if _, err := c.ExecContext(ctx, m.sql); err != nil {
			return 0, fmt.Errorf("migrate: apply %s: %w", m.name, err)
		}
		if _, err := c.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, CURRENT_TIMESTAMP)`, m.version, m.name); err != nil {
			return 0, fmt.Errorf("migrate: record %s: %w", m.name, err)
		}
		logger.InfoContext(ctx, "applied schema migration", slog.Int("version", m.version), slog.String("name", m.name))
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, fmt.Errorf("migrate: commit: %w", err)
	}
	return latest, nil
}
