package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText writes r as a table with a row per operation, followed by the users created and
// the first error of each operation that had errors.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "endpoint %s, %d clients, %v per operation after %v warm-up, run %s\n\n",
		r.Endpoint, r.Concurrency, r.Duration, r.Warmup, r.RunID)
	fmt.Fprintf(&b, "%-18s %5s %9s %7s %10s %8s %8s %8s\n", "op", "conc", "requests", "errors", "req/s", "p50 ms", "p99 ms", "max ms")
	for _, res := range r.Results {
		fmt.Fprintf(&b, "%-18s %5d %9d %7d %10.1f %8.2f %8.2f %8.2f\n", res.Op, res.Concurrency, res.Requests, res.Errors,
			res.RPS, ms(res.P50), ms(res.P99), ms(res.Max))
	}
	fmt.Fprintf(&b, "\nusers created: %d", r.UsersCreated)
	if r.UsersCreated > 0 {
		fmt.Fprintf(&b, " (names bench-target-%s, bench-caller-%s and bench-%s-*, not deleted)", r.RunID, r.RunID, r.RunID)
	}
	b.WriteByte('\n')
	for _, res := range r.Results {
		if res.FirstError != "" {
			fmt.Fprintf(&b, "first error of %s: %s\n", res.Op, oneLine(res.FirstError))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ReportJSON is the JSON form of a Report, for scripts. Durations are in milliseconds or
// seconds as the field names say.
type ReportJSON struct {
	Endpoint        string       `json:"endpoint"`
	RunID           string       `json:"run_id"`
	Concurrency     int          `json:"concurrency"`
	DurationSeconds float64      `json:"duration_seconds"`
	WarmupSeconds   float64      `json:"warmup_seconds"`
	TargetUser      string       `json:"target_user,omitempty"`
	UsersCreated    uint64       `json:"users_created"`
	Results         []ResultJSON `json:"results"`
}

// ResultJSON is the JSON form of a Result.
type ResultJSON struct {
	Op          Op      `json:"op"`
	Service     string  `json:"service"`
	Concurrency int     `json:"concurrency"`
	Requests    uint64  `json:"requests"`
	Errors      uint64  `json:"errors"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	MeanMs      float64 `json:"mean_ms"`
	MaxMs       float64 `json:"max_ms"`
	FirstError  string  `json:"first_error,omitempty"`
}

// JSON returns r's JSON form.
func (r *Report) JSON() ReportJSON {
	out := ReportJSON{
		Endpoint:        r.Endpoint,
		RunID:           r.RunID,
		Concurrency:     r.Concurrency,
		DurationSeconds: r.Duration.Seconds(),
		WarmupSeconds:   r.Warmup.Seconds(),
		TargetUser:      r.TargetUser,
		UsersCreated:    r.UsersCreated,
		Results:         make([]ResultJSON, 0, len(r.Results)),
	}
	for _, res := range r.Results {
		out.Results = append(out.Results, ResultJSON{
			Op:          res.Op,
			Service:     res.Service,
			Concurrency: res.Concurrency,
			Requests:    res.Requests,
			Errors:      res.Errors,
			Seconds:     res.Elapsed.Seconds(),
			RPS:         res.RPS,
			P50Ms:       ms(res.P50),
			P99Ms:       ms(res.P99),
			MeanMs:      ms(res.Mean),
			MaxMs:       ms(res.Max),
			FirstError:  res.FirstError,
		})
	}
	return out
}

// WriteJSON writes r's JSON form, indented.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // error bodies are XML; keep them legible
	return enc.Encode(r.JSON())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// maxNoteLen bounds an error note under the table; the JSON form keeps the whole body.
const maxNoteLen = 400

// oneLine keeps an error body on one line of the table's notes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxNoteLen {
		s = s[:maxNoteLen] + "..."
	}
	return s
}
