package sqlite

import (
	"context"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/schema"
)

// Stats is the read pool's use, for the metrics.
type Stats struct {
	// ReadersIdle of ReadersTotal read connections are waiting in the pool.
	ReadersIdle, ReadersTotal int
}

// Stats reports the read pool; it is safe to call at any time, also after Close.
func (s *Store) Stats() Stats {
	return Stats{ReadersIdle: len(s.readers), ReadersTotal: cap(s.readers)}
}

// SchemaVersion reads the database's schema version through a read connection (so it also
// tells whether the store answers reads) and returns it with the newest version this program
// knows. Readiness wants them equal.
func (s *Store) SchemaVersion(ctx context.Context) (current, known int, err error) {
	ms, err := schema.Load(migrationFiles, "migrations")
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: %w", err)
	}
	known = ms[len(ms)-1].Version
	err = s.View(ctx, func(ctx context.Context, t store.Tx) error {
		return t.(*tx).c.sql.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current)
	})
	if err != nil {
		return 0, known, fmt.Errorf("sqlite: read schema version: %w", err)
	}
	return current, known, nil
}

// ObserveBatches makes fn be told the number of Updates in each group-commit transaction that
// commits. fn runs on the writer goroutine and must not block.
func (s *Store) ObserveBatches(fn func(requests int)) { s.writer.ObserveBatches(fn) }
