package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// Backup writes a consistent copy of the database to path while the store serves: SQLite's
// VACUUM INTO reads one snapshot, so writes that commit meanwhile are either wholly in the copy
// or not at all, and it does not hold back the writer. path must not exist. The copy is the
// database only: the master key that seals its secrets is not in it.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("sqlite: backup: %s exists; choose a new file", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if !s.gate.Enter() {
		return ErrClosed
	}
	defer s.gate.Leave()
	// A connection of its own: the pool's readers are query_only, which VACUUM INTO refuses
	// even though it writes only the new file; it reads in a snapshot and takes no write lock.
	db, err := sql.Open(driverName, dsn(s.path, false))
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("sqlite: backup to %s: %w", path, err)
	}
	return nil
}
