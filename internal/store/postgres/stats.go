package postgres

import (
	"context"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/schema"
)

// Stats is the read pool's use, for the metrics.
type Stats struct {
	// Idle of Total open read connections wait in the pool; at most Max may be open.
	Idle, Total, Max int
	// Waits counts the acquisitions that had to wait for a connection.
	Waits int64
}

// Stats reports the read pool.
func (s *Store) Stats() Stats {
	st := s.pool.Stat()
	return Stats{Idle: int(st.IdleConns()), Total: int(st.TotalConns()), Max: int(st.MaxConns()), Waits: st.EmptyAcquireCount()}
}

// SchemaVersion reads the database's schema version through a read connection (so it also
// tells whether the database answers) and returns it with the newest version this program
// knows. Readiness wants them equal.
func (s *Store) SchemaVersion(ctx context.Context) (current, known int, err error) {
	ms, err := schema.Load(migrationFiles, "migrations")
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: %w", err)
	}
	known = ms[len(ms)-1].Version
	err = s.View(ctx, func(ctx context.Context, t store.Tx) error {
		current, err = readVersion(ctx, t.(*tx).q)
		return err
	})
	if err != nil {
		return 0, known, fmt.Errorf("postgres: %w", err)
	}
	return current, known, nil
}

// ObserveBatches makes fn be told the number of Updates in each batch that commits. fn runs on
// the writer goroutine and must not block.
func (s *Store) ObserveBatches(fn func(requests int)) { s.writer.ObserveBatches(fn) }

// Changes implements store.ChangeCounter: the number of write transactions committed to the
// database by any node.
func (s *Store) Changes(ctx context.Context) (uint64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, sqlChanges).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: read the change count: %w", unavailable(err))
	}
	return uint64(v), nil
}
