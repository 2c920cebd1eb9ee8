package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// A database of its own answers queries, and is gone once its test ends.
func TestDatabase(t *testing.T) {
	ctx := context.Background()
	var url string
	t.Run("use", func(t *testing.T) {
		url = Database(t)
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var fsync string
		if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil {
			t.Fatal(err)
		}
		if fsync != "on" {
			t.Errorf("fsync = %q, want on", fsync)
		}
	})
	if url == "" {
		return // skipped
	}
	if conn, err := pgx.Connect(ctx, url); err == nil {
		conn.Close(ctx)
		t.Errorf("the test's database still exists after the test")
	}
}
