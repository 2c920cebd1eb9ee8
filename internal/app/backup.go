package app

import (
	"context"
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
)

// Backup writes a consistent copy of the deployment's database to path while it serves. The
// master key is not in it: keep it apart (docs/operations.md, "Backup and restore").
func (a *App) Backup(ctx context.Context, path string) error {
	st, ok := a.store.(*sqlite.Store)
	if !ok {
		return errors.New("backup copies the SQLite file of a deployment; for PostgreSQL use its own tools (pg_dump, or continuous archiving) or gatehouse export")
	}
	return st.Backup(ctx, path)
}

// CheckMasterKey refuses a master key that does not open the deployment's sealed secrets
// (iam.Service.CheckMasterKey).
func (a *App) CheckMasterKey(ctx context.Context) error { return a.IAM.CheckMasterKey(ctx) }
