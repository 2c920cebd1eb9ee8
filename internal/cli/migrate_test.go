package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestMigratePostgreSQL: on an empty PostgreSQL database, migrate (like every command but
// serve) refuses to create a deployment unless --init; with it the schema is created; run again
// it has nothing to do; and the other commands then use the database.
func TestMigratePostgreSQL(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	dir := t.TempDir()
	for _, step := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"migrate", "--database", url, "--data-dir", dir}, 1, "no Gatehouse deployment in postgres://"},
		{[]string{"account", "list", "--database", url, "--data-dir", dir}, 1, "no Gatehouse deployment in postgres://"},
		{[]string{"migrate", "--database", url, "--data-dir", dir, "--init"}, 0, "at version 2"}, // 0001_init, 0002_events
		{[]string{"migrate", "--database", url, "--data-dir", dir}, 0, "at version 2"},
		{[]string{"account", "create", "--database", url, "--data-dir", dir, "--account-id", "123456789012"}, 0, "123456789012"},
		{[]string{"account", "list", "--database", url, "--data-dir", dir}, 0, "123456789012"},
		{[]string{"migrate", "--database", "mysql://x", "--data-dir", dir}, 1, "must be a postgres:// or postgresql:// URL"},
	} {
		code, out, errOut := runCLIIn(t, "", step.args...)
		if code != step.wantCode || !strings.Contains(out+errOut, step.want) {
			t.Errorf("gatehouse %s: code %d, output %q %q; want code %d and %q", strings.Join(step.args, " "), code, out, errOut, step.wantCode, step.want)
		}
	}
}
