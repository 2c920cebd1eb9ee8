package schema

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseMigrationName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		in      string
		want    int
		wantErr bool
	}{
		{"first", "0001_init.sql", 1, false},
		{"many digits", "00012_more.sql", 12, false},
		{"underscores in name", "0003_add_index_x.sql", 3, false},
		{"not sql", "0001_init.txt", 0, true},
		{"no name", "0001_.sql", 0, true},
		{"no underscore", "0001.sql", 0, true},
		{"short version", "01_init.sql", 0, true},
		{"not digits", "00a1_init.sql", 0, true},
		{"signed", "+001_init.sql", 0, true},
		{"zero", "0000_init.sql", 0, true},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseName(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("ParseName(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// FuzzParseMigrationName checks that the parser never panics and that what it accepts is a
// well-formed name whose version prints back as the digits it read.
func FuzzParseMigrationName(f *testing.F) {
	for _, seed := range []string{"0001_init.sql", "0001.sql", "99999999999999999999_x.sql", "0001_a.sql.sql", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		v, err := ParseName(name)
		if err != nil {
			return
		}
		num, _, _ := strings.Cut(name, "_")
		if v < 1 || strings.TrimLeft(num, "0") != fmt.Sprint(v) || !strings.HasSuffix(name, ".sql") {
			t.Fatalf("accepted %q as version %d", name, v)
		}
	})
}

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name    string
		fs      fstest.MapFS
		want    []int
		wantErr string
	}{
		{"ordered", fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A")}, []int{1, 2}, ""},
		{"gap", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0003_c.sql": file("C")}, nil, "expected version 2"},
		{"duplicate", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0001_b.sql": file("B")}, nil, "expected version 2"},
		{"starts at 2", fstest.MapFS{"m/0002_a.sql": file("A")}, nil, "expected version 1"},
		{"bad name", fstest.MapFS{"m/0001_a.sql": file("A"), "m/readme.md": file("x")}, nil, "does not end in .sql"},
		{"empty", fstest.MapFS{"m/sub/0001_a.sql": file("A")}, nil, "no migrations"},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			t.Parallel()
			ms, err := Load(tc.fs, "m")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("versions = %v, want %v", got, tc.want)
			}
		})
	}
}
