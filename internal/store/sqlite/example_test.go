package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
)

func Example() {
	dir, err := os.MkdirTemp("", "gatehouse-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "data", "gatehouse.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// Update returns once the record is durably committed.
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.Insert(ctx, store.Record{
			Account: "123456789012", Kind: store.KindUser, Key: "alice", ID: "AIDAEXAMPLE", Path: "/",
			Data: []byte(`{"name":"Alice"}`),
		})
	})
	if err != nil {
		log.Fatal(err)
	}

	err = s.View(ctx, func(ctx context.Context, tx store.Tx) error {
		rec, err := tx.GetByID(ctx, store.KindUser, "AIDAEXAMPLE")
		if err != nil {
			return err
		}
		fmt.Println(rec.Account, rec.Key, string(rec.Data))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output: 123456789012 alice {"name":"Alice"}
}
