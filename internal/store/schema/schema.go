// Package schema loads the numbered schema migrations a store backend embeds (one directory of
// NNNN_name.sql files per SQL dialect); each backend applies them in its own dialect.
package schema

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string // file name, recorded in schema_version
	SQL     string
}

// ParseName reads the version out of a migration file name such as "0001_init.sql":
// at least four decimal digits, an underscore, a non-empty name and the .sql extension.
func ParseName(name string) (int, error) {
	base, ok := strings.CutSuffix(name, ".sql")
	if !ok {
		return 0, fmt.Errorf("migration %q: name does not end in .sql", name)
	}
	num, label, ok := strings.Cut(base, "_")
	if !ok || label == "" {
		return 0, fmt.Errorf("migration %q: name is not NNNN_name.sql", name)
	}
	if len(num) < 4 {
		return 0, fmt.Errorf("migration %q: version %q has fewer than four digits", name, num)
	}
	for _, r := range num {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("migration %q: version %q is not decimal digits", name, num)
		}
	}
	v, err := strconv.Atoi(num)
	if err != nil {
		return 0, fmt.Errorf("migration %q: version %q: %w", name, num, err)
	}
	if v < 1 {
		return 0, fmt.Errorf("migration %q: versions start at 1", name)
	}
	return v, nil
}

// Load reads the migrations in dir of fsys. Versions must run 1, 2, 3... without gaps
// or duplicates, so that a missing file is found at build time rather than skipped.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		v, err := ParseName(e.Name())
		if err != nil {
			return nil, err
		}
		text, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(text)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %q: expected version %d (versions must be 1, 2, 3... without gaps or duplicates)", m.Name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations")
	}
	return ms, nil
}
