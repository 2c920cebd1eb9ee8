package app

import "context"

// Backup writes a consistent copy of the deployment's database to path while it serves. The
// master key is not in it: keep it apart (docs/operations.md, "Backup and restore").
func (a *App) Backup(ctx context.Context, path string) error { return a.store.Backup(ctx, path) }

// CheckMasterKey refuses a master key that does not open the deployment's sealed secrets
// (iam.Service.CheckMasterKey).
func (a *App) CheckMasterKey(ctx context.Context) error { return a.IAM.CheckMasterKey(ctx) }
