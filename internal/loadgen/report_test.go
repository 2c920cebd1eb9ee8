package loadgen_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/loadgen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleReport is a report with one clean operation and one with errors.
func sampleReport() *loadgen.Report {
	return &loadgen.Report{
		Endpoint: "http://127.0.0.1:7400/", RunID: "0a1b2c3d", Concurrency: 32,
		Duration: 10 * time.Second, Warmup: time.Second, TargetUser: "bench-target-0a1b2c3d", UsersCreated: 20001,
		Results: []loadgen.Result{
			{Op: loadgen.GetUser, Service: "iam", Concurrency: 32, Requests: 81234, Elapsed: 10 * time.Second, RPS: 8123.4,
				P50: 3120 * time.Microsecond, P99: 9870 * time.Microsecond, Mean: 3500 * time.Microsecond, Max: 25300 * time.Microsecond},
			{Op: loadgen.GetCallerIdentity, Service: "sts", Concurrency: 32, Requests: 100, Errors: 3, Elapsed: 10 * time.Second, RPS: 9.7,
				P50: 250 * time.Microsecond, P99: time.Millisecond, Mean: 300 * time.Microsecond, Max: 2 * time.Millisecond,
				FirstError: "HTTP 403: <ErrorResponse>\n  <Error><Code>InvalidClientTokenId</Code></Error>\n</ErrorResponse>"},
		},
	}
}

func TestWriteGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		write func(*bytes.Buffer, *loadgen.Report) error
	}{
		{"report.txt", func(b *bytes.Buffer, r *loadgen.Report) error { return loadgen.WriteText(b, r) }},
		{"report.json", func(b *bytes.Buffer, r *loadgen.Report) error { return loadgen.WriteJSON(b, r) }},
	}
	for _, tt := range tests {
		t.Run("file="+tt.name, func(t *testing.T) {
			t.Parallel()
			var got bytes.Buffer
			if err := tt.write(&got, sampleReport()); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.name)
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("output differs from %s (run with -update to accept):\n%s", path, got.Bytes())
			}
		})
	}
}

// TestJSONFields checks the JSON form against the report it came from, field by field.
func TestJSONFields(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	var buf bytes.Buffer
	if err := loadgen.WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var got loadgen.ReportJSON
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.UsersCreated != r.UsersCreated || got.DurationSeconds != r.Duration.Seconds() || len(got.Results) != len(r.Results) {
		t.Fatalf("decoded %+v from %+v", got, r)
	}
	for i, res := range got.Results {
		want := r.Results[i]
		if res.Op != want.Op || res.RPS != want.RPS || res.P99Ms != float64(want.P99)/1e6 || res.Errors != want.Errors || res.FirstError != want.FirstError {
			t.Errorf("result %d decoded as %+v from %+v", i, res, want)
		}
	}
}
