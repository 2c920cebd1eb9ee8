package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// subBucketBits sets the histogram's precision: each power-of-two range of values is split into
// 1<<subBucketBits equal buckets, so a bucket is at most 1/128 of its values wide and the
// midpoint reported for it is within 0.4% of any value in it.
const subBucketBits = 7

const (
	subBuckets = 1 << subBucketBits
	// numBuckets covers every non-negative int64: values below 2*subBuckets have a bucket each,
	// and every further power of two adds subBuckets buckets.
	numBuckets = (64-subBucketBits)*subBuckets + subBuckets
)

// Histogram records durations in log-linear buckets (the HDR histogram layout): exact below
// 256ns, and within 0.4% above. Recording never allocates. The zero value is not ready; use
// NewHistogram. A Histogram is not safe for concurrent use: give each goroutine its own and
// Merge them.
type Histogram struct {
	counts   []uint64
	n        uint64
	min, max int64
	sum      float64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, numBuckets), min: math.MaxInt64}
}

// bucketOf returns the bucket index of v (v >= 0).
func bucketOf(v int64) int {
	u := uint64(v)
	if u < 2*subBuckets {
		return int(u)
	}
	shift := bits.Len64(u) - (subBucketBits + 1)
	mantissa := u >> uint(shift) // in [subBuckets, 2*subBuckets)
	return (shift+1)*subBuckets + int(mantissa) - subBuckets
}

// bucketRange returns the smallest value of bucket i and the bucket's width.
func bucketRange(i int) (lower, width int64) {
	if i < 2*subBuckets {
		return int64(i), 1
	}
	shift := i/subBuckets - 1
	mantissa := int64(subBuckets + i%subBuckets)
	return mantissa << uint(shift), 1 << uint(shift)
}

// Record adds one duration. Negative durations (a clock step) count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	h.n++
	h.sum += float64(v)
	if v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count returns how many durations were recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest duration recorded, exactly; 0 when empty.
func (h *Histogram) Max() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.max)
}

// Mean returns the average duration; 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100): the smallest recorded
// value that at least p percent of the values are less than or equal to, as its bucket's
// midpoint (exact below 256ns, within 0.4% above), clamped to the recorded minimum and maximum.
// It returns 0 when the histogram is empty.
func (h *Histogram) Percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := nearestRank(p, h.n)
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum < rank {
			continue
		}
		lower, width := bucketRange(i)
		v := lower + width/2
		return time.Duration(min(max(v, h.min), h.max))
	}
	return time.Duration(h.max) // unreachable: the counts add up to n
}

// nearestRank returns the 1-based rank of the p-th percentile of n values: ceil(p/100 * n),
// at least 1 and at most n. It multiplies before dividing so that whole percentiles of whole
// counts are exact (0.99*100 is not 99 in floating point).
func nearestRank(p float64, n uint64) uint64 {
	r := math.Ceil(p * float64(n) / 100)
	switch {
	case r < 1 || math.IsNaN(r):
		return 1
	case r > float64(n):
		return n
	}
	return uint64(r)
}
