package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// exportFormat is the first line of an export; a later format changes the name.
const exportFormat = "gatehouse-export/1"

// exportLine is one line of an export (JSON Lines): the header, a record or a link. Records
// hold their data as stored, secrets still sealed under the master key, so an export moves
// between backends and machines but is opened only with the same key.
type exportLine struct {
	Format string        `json:"format,omitempty"`
	Record *store.Record `json:"record,omitempty"`
	Link   *store.Link   `json:"link,omitempty"`
}

// maxExportLine bounds one line of an import (a record with a certificate chain is a few KiB).
const maxExportLine = 16 << 20

// Export writes every record and link of the deployment, from one snapshot, while it serves.
func (a *App) Export(ctx context.Context, w io.Writer) (records, links int, err error) {
	enc := json.NewEncoder(w)
	if err := enc.Encode(exportLine{Format: exportFormat}); err != nil {
		return 0, 0, fmt.Errorf("export: %w", err)
	}
	err = a.store.Dump(ctx,
		func(r store.Record) error { records++; return enc.Encode(exportLine{Record: &r}) },
		func(l store.Link) error { links++; return enc.Encode(exportLine{Link: &l}) })
	if err != nil {
		return 0, 0, fmt.Errorf("export: %w", err)
	}
	return records, links, nil
}

// Import loads an export into this deployment, which must have no account yet, in one
// transaction: on any error nothing is imported. Records a fresh deployment already holds
// (its migration markers) are kept when the export's are the same. The master key must be the
// exported deployment's: the first access key's sealed secret must open, or nothing is imported.
func (a *App) Import(ctx context.Context, r io.Reader) (records, links int, err error) {
	accounts, err := a.IAM.ListAccounts(ctx)
	if err != nil {
		return 0, 0, err
	}
	if len(accounts) > 0 {
		return 0, 0, fmt.Errorf("import: the deployment already has %d account(s); import into a new data directory", len(accounts))
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxExportLine)
	if !sc.Scan() {
		return 0, 0, fmt.Errorf("import: empty input: %w", sc.Err())
	}
	var head exportLine
	if err := json.Unmarshal(sc.Bytes(), &head); err != nil || head.Format != exportFormat {
		return 0, 0, fmt.Errorf("import: not a Gatehouse export (want a first line with format %q)", exportFormat)
	}
	err = a.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		records, links = 0, 0
		keyChecked := false
		for line := 2; sc.Scan(); line++ {
			var l exportLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				return fmt.Errorf("import: line %d: %w", line, err)
			}
			switch {
			case l.Record != nil:
				if l.Record.Kind == store.KindAccessKey && !keyChecked {
					if err := a.IAM.CheckSealedAccessKey(*l.Record); err != nil {
						return fmt.Errorf("import: %w", err)
					}
					keyChecked = true
				}
				if err := importRecord(ctx, tx, *l.Record); err != nil {
					return fmt.Errorf("import: line %d: %w", line, err)
				}
				records++
			case l.Link != nil:
				if err := tx.AddLink(ctx, *l.Link); err != nil && !errors.Is(err, store.ErrExists) {
					return fmt.Errorf("import: line %d: %w", line, err)
				}
				links++
			default:
				return fmt.Errorf("import: line %d holds neither a record nor a link", line)
			}
		}
		return sc.Err()
	})
	if err != nil {
		return 0, 0, err
	}
	return records, links, nil
}

// importRecord inserts rec, keeping an identical record that is already there.
func importRecord(ctx context.Context, tx store.Tx, rec store.Record) error {
	err := tx.Insert(ctx, rec)
	if !errors.Is(err, store.ErrExists) {
		return err
	}
	have, gerr := tx.Get(ctx, rec.Kind, rec.Account, rec.Key)
	if gerr == nil && have.ID == rec.ID && have.Path == rec.Path && bytes.Equal(have.Data, rec.Data) {
		return nil
	}
	return fmt.Errorf("the deployment already holds a different %s record %q: %w", rec.Kind, rec.Key, err)
}
