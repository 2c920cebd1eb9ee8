package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/store/postgres"
)

// runMigrate runs `gatehouse migrate`: the deployment's schema is brought up to this program's.
func runMigrate(ctx context.Context, env Env, args []string) error {
	var cfg config.Config
	fs := newFlagSet(env, "migrate [flags]", `Applies the schema migrations this program has and the database lacks, in one transaction,
and prints the schema version. serve does the same when it starts, unless given --no-migrate:
run migrate as its own step to upgrade a fleet's PostgreSQL database before its nodes (back it
up first), then start the new version's nodes with --no-migrate. A database whose schema is
newer than this program's is refused. For SQLite, opening the data directory migrates it.`)
	create := deploymentFlags(fs, &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg.FromEnv(env.Getenv)
	if cfg.PostgreSQL() && *create {
		v, err := postgres.Migrate(ctx, cfg.DatabaseURL, newLogger(env.Stderr, cfg.LogFormat, slog.LevelInfo))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Schema of %s at version %d\n", postgres.Redact(cfg.DatabaseURL), v)
		return nil
	}
	a, err := openDeployment(ctx, env, cfg, create)
	if err != nil {
		return err
	}
	defer a.Close()
	current, _, err := a.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	where := cfg.DatabasePath()
	if cfg.PostgreSQL() {
		where = postgres.Redact(cfg.DatabaseURL)
	}
	fmt.Fprintf(env.Stdout, "Schema of %s at version %d\n", where, current)
	return nil
}
