package awsmanaged

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoad checks the embedded catalogue against facts published by AWS about well-known
// policies (paths, default versions, creation dates from the IAM console / GetPolicy).
func TestLoad(t *testing.T) {
	set, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 1485 {
		t.Errorf("Len = %d, want the 1,485 policies of the data file", set.Len())
	}
	tests := []struct {
		name, arn, path, version string
		created                  string
		docHas                   string
	}{
		{"AdministratorAccess", "arn:aws:iam::aws:policy/AdministratorAccess", "/", "v1", "2015-02-06T18:39:46Z", `"Action":"*"`},
		{"ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess", "/", "", "2015-02-06T18:39:48Z", `"Effect":"Allow"`},
		{"AWSLambdaBasicExecutionRole", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "/service-role/", "", "2015-04-09T15:03:43Z", "logs:CreateLogGroup"},
		{"ViewOnlyAccess", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", "/job-function/", "", "2016-11-10T17:20:15Z", ""},
	}
	for _, tc := range tests {
		t.Run("policy="+tc.name, func(t *testing.T) {
			p := set.Lookup(tc.arn)
			if p == nil {
				t.Fatalf("Lookup(%s) = nil", tc.arn)
			}
			if p.Name != tc.name || p.Path != tc.path || p.ARN != tc.arn {
				t.Errorf("got %s %s %s", p.Name, p.Path, p.ARN)
			}
			if tc.version != "" && p.DefaultVersionID != tc.version {
				t.Errorf("DefaultVersionID = %s, want %s", p.DefaultVersionID, tc.version)
			}
			if got := p.CreateDate.Format(time.RFC3339); got != tc.created {
				t.Errorf("CreateDate = %s, want %s", got, tc.created)
			}
			if p.UpdateDate.Before(p.CreateDate) {
				t.Errorf("UpdateDate %s before CreateDate %s", p.UpdateDate, p.CreateDate)
			}
			if !strings.HasPrefix(p.ID, "ANPA") || len(p.ID) != 21 {
				t.Errorf("ID = %q, want ANPA and 17 characters", p.ID)
			}
			if !json.Valid([]byte(p.Document)) || !strings.Contains(p.Document, tc.docHas) {
				t.Errorf("Document = %.200s", p.Document)
			}
			if strings.ContainsAny(p.Document, "\n\t") {
				t.Errorf("Document is not compact: %.200s", p.Document)
			}
		})
	}
}

// TestLookupMisses checks that only exact ARNs of the catalogue are found.
func TestLookupMisses(t *testing.T) {
	set, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, arn := range []string{
		"arn:aws:iam::aws:policy/administratoraccess",              // ARNs compare case-sensitively
		"arn:aws:iam::aws:policy/service-role/AdministratorAccess", // wrong path
		"arn:aws:iam::123456789012:policy/AdministratorAccess",     // a customer account
		"arn:aws:iam::aws:policy/NoSuchPolicyAnywhere",
		"",
	} {
		t.Run("arn="+arn, func(t *testing.T) {
			if p := set.Lookup(arn); p != nil {
				t.Errorf("Lookup(%q) = %s, want nil", arn, p.ARN)
			}
		})
	}
}

// TestOrderAndSearch checks the sort order pagination relies on, and Search.
func TestOrderAndSearch(t *testing.T) {
	set, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i := 0; i < set.Len(); i++ {
		p := set.At(i)
		if i > 0 && set.At(i-1).SortKey() >= p.SortKey() {
			t.Fatalf("policies %s and %s out of order", set.At(i-1).Name, p.Name)
		}
		if p.SortKey() != strings.ToLower(p.Name) {
			t.Fatalf("SortKey(%s) = %s", p.Name, p.SortKey())
		}
		if ids[p.ID] {
			t.Fatalf("duplicate id %s", p.ID)
		}
		ids[p.ID] = true
		if set.Lookup(p.ARN) != p {
			t.Fatalf("Lookup(%s) does not return the listed policy", p.ARN)
		}
	}
	tests := []struct {
		name, key string
		want      string // Name at the returned index, "" for the end
	}{
		{"exact", "administratoraccess", "AdministratorAccess"},
		{"before everything", "", set.At(0).Name},
		{"after everything", "~", ""},
		{"between", "administratoraccess\x00", set.At(set.Search("administratoraccess") + 1).Name},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i := set.Search(tc.key)
			got := ""
			if i < set.Len() {
				got = set.At(i).Name
			}
			if got != tc.want {
				t.Errorf("Search(%q) -> %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}

// TestPolicyIDStable pins the derived id, so that ids never change between releases.
func TestPolicyIDStable(t *testing.T) {
	a, b := policyID(ARNPrefix+"/AdministratorAccess"), policyID(ARNPrefix+"/AdministratorAccess")
	if a != b || a == policyID(ARNPrefix+"/ReadOnlyAccess") {
		t.Errorf("policyID not a stable function of the ARN: %s %s", a, b)
	}
	set, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Lookup(ARNPrefix + "/AdministratorAccess").ID; got != a {
		t.Errorf("two loads disagree: %s vs %s", got, a)
	}
}

// TestParseRejects feeds broken catalogues from testdata/ to the parser.
func TestParseRejects(t *testing.T) {
	files, err := filepath.Glob("testdata/bad-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run("file="+filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := parse(gzipped(t, data)); err == nil {
				t.Errorf("parse accepted %s", f)
			}
		})
	}
	if _, err := parse([]byte("not gzip")); err == nil {
		t.Error("parse accepted data that is not gzip")
	}
}

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzParse checks that the parser never panics and that whatever it accepts is consistent.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := parse(gzipped(t, data))
		if err != nil {
			return
		}
		for i := 0; i < set.Len(); i++ {
			p := set.At(i)
			if set.Lookup(p.ARN) != p || !json.Valid([]byte(p.Document)) {
				t.Fatalf("inconsistent policy %+v", p)
			}
		}
	})
}
