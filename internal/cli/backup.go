package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
)

// runBackup runs `gatehouse backup --to FILE`: a consistent copy of the database, taken while
// the server runs.
func runBackup(ctx context.Context, env Env, args []string) error {
	cfg, to, err := parseFileCommand(env, args, "backup --to FILE [flags]", `Writes a consistent copy of the deployment's database to FILE (which must not exist) while
the server runs: one snapshot, with every write acknowledged before it began. The master key is
not in the copy: keep it apart (it is master.key in the data directory, or GATEHOUSE_MASTER_KEY);
a backup is useless without it, and whoever has both has every secret.`, "to", "the backup file to write (required)")
	if err != nil {
		return err
	}
	a, err := openForCLI(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Backup(ctx, to); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Backed up %s to %s\n", cfg.DatabasePath(), to)
	return nil
}

// runRestore runs `gatehouse restore --from FILE`: a backup becomes the database of a data
// directory that has none, and is checked against the master key before anything serves it.
func runRestore(ctx context.Context, env Env, args []string) error {
	cfg, from, err := parseFileCommand(env, args, "restore --from FILE [flags]", `Restores a backup made by 'gatehouse backup' into a data directory that has no database
yet. The deployment's master key must be there first (master.key in the data directory, mode
0600, or GATEHOUSE_MASTER_KEY): the restore checks that it opens the backup's sealed secrets,
and removes the restored database again when it does not. Stop the server before restoring.`, "from", "the backup file to restore (required)")
	if err != nil {
		return err
	}
	if err := requireMasterKey(env, &cfg); err != nil {
		return err
	}
	db := cfg.DatabasePath()
	if _, err := os.Stat(db); err == nil {
		return fmt.Errorf("%s exists: restore into a data directory without a database", db)
	}
	if err := copyFile(from, db); err != nil {
		os.Remove(db)
		return err
	}
	a, err := openForCLI(ctx, env, cfg)
	if err == nil {
		err = a.CheckMasterKey(ctx)
		a.Close()
	}
	if err != nil {
		// Leave the directory as it was, so that the restore can be tried again.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(db + suffix)
		}
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(env.Stdout, "Restored %s into %s\n", from, db)
	return nil
}

// parseFileCommand parses the flags of a command that takes --data-dir and one required file
// flag, and returns the configuration and the file.
func parseFileCommand(env Env, args []string, synopsis, help, fileFlag, fileHelp string) (config.Config, string, error) {
	var cfg config.Config
	fs := newFlagSet(env, synopsis, help)
	cfg.DataDirFlag(fs)
	file := fs.String(fileFlag, "", fileHelp)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, "", err
		}
		return cfg, "", errUsage
	}
	if *file == "" || fs.NArg() > 0 {
		fs.Usage()
		return cfg, "", errUsage
	}
	return cfg, *file, nil
}

// requireMasterKey refuses to go on without the deployment's master key (in the environment or
// the data directory): opening the data directory would otherwise create a new key, which
// cannot open the secrets being restored or imported.
func requireMasterKey(env Env, cfg *config.Config) error {
	cfg.FromEnv(env.Getenv)
	if cfg.MasterKey != "" {
		return nil
	}
	if _, err := os.Stat(cfg.MasterKeyPath()); err != nil {
		return fmt.Errorf("no master key: put the deployment's key in %s or %s first (a new key could not open the secrets of the backup or export)", cfg.MasterKeyPath(), config.EnvMasterKey)
	}
	if _, err := secret.LoadOrCreateKeyFile(cfg.MasterKeyPath()); err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	return nil
}

// runExport runs `gatehouse export --to FILE`: every record and link of the deployment, from
// one snapshot, while the server runs.
func runExport(ctx context.Context, env Env, args []string) error {
	cfg, to, err := parseFileCommand(env, args, "export --to FILE [flags]", `Writes the whole deployment (accounts, entities, policies, sealed secrets, session keys) to
FILE as JSON Lines, from one snapshot, while the server runs. 'gatehouse import' loads it into
a new data directory, on this machine or another. Secrets stay sealed under the master key,
which is not in the export: the importing side needs the same key.`, "to", "the file to write (required; it must not exist)")
	if err != nil {
		return err
	}
	a, err := openForCLI(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	records, links, err := a.Export(ctx, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(to)
		return err
	}
	fmt.Fprintf(env.Stdout, "Exported %d records and %d links to %s\n", records, links, to)
	return nil
}

// runImport runs `gatehouse import --from FILE` into a data directory without accounts.
func runImport(ctx context.Context, env Env, args []string) error {
	cfg, from, err := parseFileCommand(env, args, "import --from FILE [flags]", `Loads an export made by 'gatehouse export' into a data directory that has no account yet,
in one transaction (on any error nothing is imported). The exporting deployment's master key
must be there first (master.key in the data directory, mode 0600, or GATEHOUSE_MASTER_KEY); the
import checks that it opens the export's sealed secrets. Stop the server before importing.`, "from", "the export to load (required)")
	if err != nil {
		return err
	}
	if err := requireMasterKey(env, &cfg); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer in.Close()
	create := true // an import makes the new deployment
	a, err := openDeployment(ctx, env, cfg, &create)
	if err != nil {
		return err
	}
	defer a.Close()
	records, links, err := a.Import(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Imported %d records and %d links from %s\n", records, links, from)
	return nil
}

// copyFile copies src to a new file dst (mode 0600) and syncs it and its directory.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("restore: %w", cerr)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	dir, err := os.Open(filepath.Dir(dst))
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer dir.Close()
	return dir.Sync()
}
