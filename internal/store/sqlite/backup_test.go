package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// TestBackupWhileWriting: a backup taken while writers commit is one consistent snapshot (every
// pair of records written together is in it wholly or not at all), opens as a store, and holds
// at least what was acknowledged before it began. An existing file is refused.
func TestBackupWhileWriting(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	put := func(i int) error {
		return s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			for _, k := range []string{"a", "b"} {
				if err := tx.Insert(ctx, store.Record{Account: "111122223333", Kind: store.KindUser, Key: fmt.Sprintf("%s-%04d", k, i), ID: fmt.Sprintf("AIDA%s%04d", k, i), Data: []byte("{}")}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for i := range 100 {
		if err := put(i); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 100; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := put(i); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	path := filepath.Join(t.TempDir(), "backup.db")
	err := s.Backup(ctx, path)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if err := s.Backup(ctx, path); err == nil {
		t.Errorf("a backup over an existing file was accepted")
	}
	copy := openAt(t, path)
	err = copy.View(ctx, func(ctx context.Context, tx store.Tx) error {
		a, err := tx.Count(ctx, store.KindUser, "111122223333", "a-")
		if err != nil {
			return err
		}
		b, err := tx.Count(ctx, store.KindUser, "111122223333", "b-")
		if err != nil {
			return err
		}
		if a != b || a < 100 {
			t.Errorf("backup holds %d a-records and %d b-records; want equal counts of at least 100", a, b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDump: Dump lists every record (ids and data as stored, across accounts and kinds) and
// every link.
func TestDump(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	want := []store.Record{
		{Account: "111122223333", Kind: store.KindUser, Key: "alice", ID: "AIDA1", Path: "/team/", Data: []byte(`{"a":1}`)},
		{Account: "444455556666", Kind: store.KindUser, Key: "bob", ID: "AIDA2", Path: "/", Data: []byte(`{}`)},
		{Account: "111122223333", Kind: store.KindGroup, Key: "devs", Path: "/", Data: []byte(`{"g":true}`)},
	}
	link := store.Link{Account: "111122223333", Kind: store.LinkMember, From: "AIDA1", To: "AGPA1"}
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, r := range want {
			if err := tx.Insert(ctx, r); err != nil {
				return err
			}
		}
		return tx.AddLink(ctx, link)
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []store.Record
	var links []store.Link
	if err := s.Dump(ctx, func(r store.Record) error { got = append(got, r); return nil }, func(l store.Link) error { links = append(links, l); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(links) != 1 || links[0] != link {
		t.Fatalf("Dump gave %d records and links %v; want %d and %v", len(got), links, len(want), link)
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if g.Account == w.Account && g.Kind == w.Kind && g.Key == w.Key && g.ID == w.ID && g.Path == w.Path && string(g.Data) == string(w.Data) {
				found = true
			}
		}
		if !found {
			t.Errorf("Dump lacks %+v", w)
		}
	}
}
