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
	var cfg config.Config
	fs := newFlagSet(env, "backup --to FILE [flags]", `Writes a consistent copy of the deployment's database to FILE (which must not exist) while
the server runs: one snapshot, with every write acknowledged before it began. The master key is
not in the copy: keep it apart (it is master.key in the data directory, or GATEHOUSE_MASTER_KEY);
a backup is useless without it, and whoever has both has every secret.`)
	cfg.DataDirFlag(fs)
	to := fs.String("to", "", "the backup file to write (required)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if *to == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	a, err := openForCLI(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Backup(ctx, *to); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Backed up %s to %s\n", cfg.DatabasePath(), *to)
	return nil
}

// runRestore runs `gatehouse restore --from FILE`: a backup becomes the database of a data
// directory that has none, and is checked against the master key before anything serves it.
func runRestore(ctx context.Context, env Env, args []string) error {
	var cfg config.Config
	fs := newFlagSet(env, "restore --from FILE [flags]", `Restores a backup made by 'gatehouse backup' into a data directory that has no database
yet. The deployment's master key must be there first (master.key in the data directory, mode
0600, or GATEHOUSE_MASTER_KEY): the restore checks that it opens the backup's sealed secrets,
and removes the restored database again when it does not. Stop the server before restoring.`)
	cfg.DataDirFlag(fs)
	from := fs.String("from", "", "the backup file to restore (required)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if *from == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	cfg.FromEnv(env.Getenv)
	if cfg.MasterKey == "" {
		if _, err := os.Stat(cfg.MasterKeyPath()); err != nil {
			return fmt.Errorf("no master key: put the deployment's key in %s or %s first (a restore with a new key could not open the backup's secrets)", cfg.MasterKeyPath(), config.EnvMasterKey)
		}
		if _, err := secret.LoadOrCreateKeyFile(cfg.MasterKeyPath()); err != nil {
			return fmt.Errorf("master key: %w", err)
		}
	}
	db := cfg.DatabasePath()
	if _, err := os.Stat(db); err == nil {
		return fmt.Errorf("%s exists: restore into a data directory without a database", db)
	}
	if err := copyFile(*from, db); err != nil {
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
	fmt.Fprintf(env.Stdout, "Restored %s into %s\n", *from, db)
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
