package postgres

import (
	"context"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Dump implements store.Dumper: every record, then every link, from one snapshot, so an export
// taken while the fleet writes is consistent.
func (s *Store) Dump(ctx context.Context, record func(store.Record) error, link func(store.Link) error) error {
	return s.View(ctx, func(ctx context.Context, stx store.Tx) error {
		q := stx.(*tx).q
		rows, err := q.Query(ctx, `SELECT account, kind, key, id, path, data FROM records ORDER BY kind, account, key`)
		if err != nil {
			return fmt.Errorf("postgres: dump records: %w", unavailable(err))
		}
		defer rows.Close()
		for rows.Next() {
			var rec store.Record
			var kind string
			var id *string
			if err := rows.Scan(&rec.Account, &kind, &rec.Key, &id, &rec.Path, &rec.Data); err != nil {
				return fmt.Errorf("postgres: dump records: %w", unavailable(err))
			}
			rec.Kind = store.Kind(kind)
			if id != nil {
				rec.ID = *id
			}
			if err := record(rec); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: dump records: %w", unavailable(err))
		}
		lrows, err := q.Query(ctx, `SELECT account, kind, src, dst FROM links ORDER BY kind, account, src, dst`)
		if err != nil {
			return fmt.Errorf("postgres: dump links: %w", unavailable(err))
		}
		defer lrows.Close()
		for lrows.Next() {
			var l store.Link
			var kind string
			if err := lrows.Scan(&l.Account, &kind, &l.From, &l.To); err != nil {
				return fmt.Errorf("postgres: dump links: %w", unavailable(err))
			}
			l.Kind = store.LinkKind(kind)
			if err := link(l); err != nil {
				return err
			}
		}
		return lrows.Err()
	})
}
