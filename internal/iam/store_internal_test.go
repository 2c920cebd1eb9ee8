package iam

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
)

// testBackend opens a real SQLite store in a temporary directory (closed when the test ends)
// and a secret box under an all-zero master key, for the fixtures of this package's tests.
func testBackend(t testing.TB) (*sqlite.Store, *secret.Box, *slog.Logger) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"), logger)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close sqlite: %v", err)
		}
	})
	box, err := secret.NewBox(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return st, box, logger
}
