package loadgen

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactPercentile is the nearest-rank percentile of values computed by sorting, the reference
// the histogram is held to.
func exactPercentile(values []time.Duration, p float64) time.Duration {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.Sort(s)
	return s[nearestRank(p, uint64(len(s)))-1]
}

func seq(from, to, step time.Duration) []time.Duration {
	var out []time.Duration
	for v := from; v <= to; v += step {
		out = append(out, v)
	}
	return out
}

func repeat(v time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestNearestRank(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    float64
		n    uint64
		want uint64
	}{
		{"p50 of 100", 50, 100, 50},
		{"p99 of 100", 99, 100, 99},
		{"p99 of 1000", 99, 1000, 990},
		{"p99.9 of 1000", 99.9, 1000, 999},
		{"p99 of 101 rounds up", 99, 101, 100},
		{"p50 of 3 rounds up", 50, 3, 2},
		{"p50 of 1", 50, 1, 1},
		{"p100 is the last", 100, 7, 7},
		{"p0 is the first", 0, 5, 1},
		{"above 100 is the last", 150, 5, 5},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			if got := nearestRank(tt.p, tt.n); got != tt.want {
				t.Errorf("nearestRank(%v, %d) = %d, want %d", tt.p, tt.n, got, tt.want)
			}
		})
	}
}

func TestHistogramPercentile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []time.Duration
		p      float64
		want   time.Duration
		// relErr is the relative error allowed: 0 below 256ns, where buckets are exact.
		relErr float64
	}{
		{name: "empty", values: nil, p: 50, want: 0},
		{name: "p50 of 1..100ns", values: seq(1, 100, 1), p: 50, want: 50},
		{name: "p99 of 1..100ns", values: seq(1, 100, 1), p: 99, want: 99},
		{name: "p100 of 1..100ns", values: seq(1, 100, 1), p: 100, want: 100},
		{name: "p1 of 1..100ns", values: seq(1, 100, 1), p: 1, want: 1},
		{name: "p50 of two values is the lower", values: []time.Duration{20, 10}, p: 50, want: 10},
		{name: "p51 of two values is the upper", values: []time.Duration{20, 10}, p: 51, want: 20},
		{name: "single value is exact (clamped to min and max)", values: []time.Duration{5 * time.Millisecond}, p: 99, want: 5 * time.Millisecond},
		{name: "p50 of bimodal", values: append(repeat(time.Millisecond, 98), repeat(30*time.Millisecond, 2)...), p: 50, want: time.Millisecond, relErr: 0.004},
		{name: "p99 of bimodal", values: append(repeat(time.Millisecond, 98), repeat(30*time.Millisecond, 2)...), p: 99, want: 30 * time.Millisecond, relErr: 0.004},
		{name: "p98 of bimodal", values: append(repeat(time.Millisecond, 98), repeat(30*time.Millisecond, 2)...), p: 98, want: time.Millisecond, relErr: 0.004},
		{name: "p99 of 1..1000us", values: seq(time.Microsecond, time.Millisecond, time.Microsecond), p: 99, want: 990 * time.Microsecond, relErr: 0.004},
		{name: "p50 of 1..1000us", values: seq(time.Microsecond, time.Millisecond, time.Microsecond), p: 50, want: 500 * time.Microsecond, relErr: 0.004},
		{name: "hours", values: []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour}, p: 50, want: 2 * time.Hour, relErr: 0.004},
		{name: "negative counts as zero", values: []time.Duration{-5, 3}, p: 50, want: 0},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			h := NewHistogram()
			for _, v := range tt.values {
				h.Record(v)
			}
			got := h.Percentile(tt.p)
			if err := relativeError(got, tt.want); err > tt.relErr {
				t.Errorf("Percentile(%v) = %v, want %v (relative error %.5f > %.5f)", tt.p, got, tt.want, err, tt.relErr)
			}
			if h.Count() != uint64(len(tt.values)) {
				t.Errorf("Count() = %d, want %d", h.Count(), len(tt.values))
			}
		})
	}
}

func relativeError(got, want time.Duration) float64 {
	if want == 0 {
		if got == 0 {
			return 0
		}
		return 1
	}
	d := float64(got - want)
	if d < 0 {
		d = -d
	}
	return d / float64(want)
}

// TestHistogramMatchesExact holds the histogram to the sorted-slice percentile on random
// latency-like distributions: within 1/256 (the half-width of a bucket) everywhere.
func TestHistogramMatchesExact(t *testing.T) {
	t.Parallel()
	dists := []struct {
		name string
		gen  func(r *rand.Rand) time.Duration
	}{
		{"uniform 0-20ms", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(20 * time.Millisecond))) }},
		{"exponential mean 2ms", func(r *rand.Rand) time.Duration { return time.Duration(r.ExpFloat64() * float64(2*time.Millisecond)) }},
		{"lognormal around 500us", func(r *rand.Rand) time.Duration {
			return time.Duration(float64(500*time.Microsecond) * (1 + r.NormFloat64()*0.3) * (1 + r.ExpFloat64()))
		}},
		{"tiny 0-300ns", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(300)) }},
	}
	for i, d := range dists {
		t.Run("dist="+d.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(uint64(i), 42))
			h := NewHistogram()
			values := make([]time.Duration, 20000)
			for j := range values {
				values[j] = d.gen(r)
				h.Record(values[j])
			}
			for _, p := range []float64{1, 10, 50, 90, 99, 99.9, 100} {
				got, want := h.Percentile(p), exactPercentile(nonNegative(values), p)
				if err := relativeError(got, want); err > 1.0/256 {
					t.Errorf("p%v = %v, exact %v: relative error %.5f > 1/256", p, got, want, err)
				}
			}
			if got, want := h.Max(), slices.Max(nonNegative(values)); got != want {
				t.Errorf("Max() = %v, want %v", got, want)
			}
		})
	}
}

// nonNegative returns values with negatives as zero, as Record counts them.
func nonNegative(values []time.Duration) []time.Duration {
	out := make([]time.Duration, len(values))
	for i, v := range values {
		out[i] = max(v, 0)
	}
	return out
}

func TestBucketBounds(t *testing.T) {
	t.Parallel()
	values := []int64{0, 1, 127, 128, 255, 256, 257, 511, 512, 1000, 999_999, 1_000_000, 1<<40 + 12345, 1<<62 - 1, 1 << 62, 1<<63 - 1}
	r := rand.New(rand.NewPCG(7, 7))
	for range 1000 {
		values = append(values, r.Int64N(1<<uint(r.IntN(63))+1))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0, %d)", v, i, numBuckets)
		}
		lower, width := bucketRange(i)
		if v < lower || v-lower >= width {
			t.Errorf("value %d in bucket %d = [%d, %d+%d)", v, i, lower, lower, width)
		}
		if v >= 2*subBuckets && float64(width)/float64(lower) > 1.0/subBuckets {
			t.Errorf("bucket %d of %d is %d wide from %d: more than 1/%d", i, v, width, lower, subBuckets)
		}
		if v < 2*subBuckets && width != 1 {
			t.Errorf("bucket of small value %d is %d wide, want exact", v, width)
		}
	}
}

func TestHistogramMerge(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	all, a, b := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 5000 {
		v := time.Duration(r.Int64N(int64(50 * time.Millisecond)))
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(b)
	a.Merge(NewHistogram()) // merging an empty histogram changes nothing
	for _, p := range []float64{1, 50, 99, 100} {
		if got, want := a.Percentile(p), all.Percentile(p); got != want {
			t.Errorf("merged p%v = %v, want %v", p, got, want)
		}
	}
	if a.Count() != all.Count() || a.Max() != all.Max() || a.Mean() != all.Mean() {
		t.Errorf("merged count/max/mean = %d/%v/%v, want %d/%v/%v", a.Count(), a.Max(), a.Mean(), all.Count(), all.Max(), all.Mean())
	}
}
