// Package histogram assembles Prometheus histograms from the bucket counts a
// BPF program keeps in a map, with the semantics of Cloudflare's
// ebpf_exporter.
//
// A histogram's map key ends with the bucket key: all labels but the last
// name a series, and the series has one map entry per bucket key. A Layout,
// computed once per config, turns a raw bucket key into a bucket index; a
// Series accumulates one series' counts in a flat slice; Layout.Histogram
// turns it into its exposition (cumulative classic buckets and, for exp2 and
// exp2zero, a native histogram: see native.go), in storage the series
// reuses, and Layout.Metric into a const prometheus.Metric.
//
// # Bucket types
//
//   - exp2: key k in [bucket_min, bucket_max] has upper bound 2^k × multiplier.
//   - exp2zero: key 0 counts the value 0 (upper bound 0); key k ≥ 1 has upper
//     bound 2^(k-1) × multiplier.
//   - linear: key k has upper bound k × multiplier.
//   - fixed: the key is the upper bound in raw units; bucket_keys lists the
//     valid ones, and key × multiplier is the bound.
//
// Every configured bucket is always exported: keys missing from the map count
// 0. The optional sum key holds the sum of observed values in raw units; its
// value × multiplier is the histogram's _sum, 0 when the key is absent. It is
// bucket_max+1 for exp2, exp2zero and linear, and the last bucket key + 1 for
// fixed (as in the reference exporter).
//
// # Keys outside the configured buckets
//
// The reference exporter ignores them: its _count is the sum of the
// configured buckets only. This package keeps the observations instead, so
// that _count matches what the BPF program recorded: a key is counted in the
// lowest bucket whose upper bound is at or above the key's own bound. So a
// key below bucket_min folds into the lowest bucket, a fixed key between two
// bucket_keys into the next one up, and a key above the highest bucket (other
// than the sum key) adds to the +Inf bucket (_count) only. The reference's
// example programs clamp keys to bucket_max, so for them both agree.
// Layout.Index reports such keys with ok false, for callers that prefer to
// drop them.
package histogram

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// MaxBuckets is the most buckets a layout may have. A linear histogram with
// a wide [bucket_min, bucket_max] range is far more likely a config mistake
// than a wish for a million-line series.
const MaxBuckets = 1 << 16

// Layout is the precomputed bucket layout of one histogram config.
type Layout struct {
	// Bounds are the buckets' upper bounds, ascending, without +Inf.
	Bounds []float64

	typ        config.BucketType
	multiplier float64
	// minKey and maxKey are the bucket keys of exp2, exp2zero and linear.
	minKey, maxKey uint64
	// keys are the fixed bucket keys, in raw units.
	keys   []float64
	sumKey uint64
	hasSum bool

	native    NativeMapping
	hasNative bool
}

// NewLayout computes the bucket layout of h. It checks what config
// validation checks and more: the multiplier must be finite and not negative
// (0 means 1), there may be at most MaxBuckets buckets, and the bounds must
// be finite and strictly increasing once multiplied.
//
// The layout exposes native histograms beside the classic buckets where it
// can (see Native); NewLayoutOptions can turn them off.
func NewLayout(h config.Histogram) (*Layout, error) {
	return NewLayoutOptions(h, DefaultOptions)
}

func newLayout(h config.Histogram) (*Layout, error) {
	m := h.BucketMultiplier
	if m == 0 {
		m = 1
	}
	if m < 0 || math.IsNaN(m) || math.IsInf(m, 0) {
		return nil, fmt.Errorf("bucket_multiplier %v must be positive and finite", h.BucketMultiplier)
	}
	l := &Layout{typ: h.BucketType, multiplier: m}

	switch h.BucketType {
	case config.BucketExp2, config.BucketExp2Zero, config.BucketLinear:
		if h.BucketMin < 0 {
			return nil, fmt.Errorf("bucket_min %d is negative", h.BucketMin)
		}
		if h.BucketMax < h.BucketMin {
			return nil, fmt.Errorf("bucket_max %d is below bucket_min %d", h.BucketMax, h.BucketMin)
		}
		if n := uint64(h.BucketMax) - uint64(h.BucketMin) + 1; n > MaxBuckets {
			return nil, fmt.Errorf("[bucket_min, bucket_max] = [%d, %d] is %d buckets, more than %d", h.BucketMin, h.BucketMax, n, MaxBuckets)
		}
		l.minKey, l.maxKey = uint64(h.BucketMin), uint64(h.BucketMax)
		l.sumKey, l.hasSum = l.maxKey+1, true
		l.Bounds = make([]float64, 0, l.maxKey-l.minKey+1)
		for k := l.minKey; ; k++ {
			l.Bounds = append(l.Bounds, bound(h.BucketType, k, m))
			if k == l.maxKey {
				break
			}
		}
	case config.BucketFixed:
		if len(h.BucketKeys) == 0 {
			return nil, errors.New("bucket_keys is empty")
		}
		if len(h.BucketKeys) > MaxBuckets {
			return nil, fmt.Errorf("%d bucket_keys, more than %d", len(h.BucketKeys), MaxBuckets)
		}
		l.keys = append([]float64(nil), h.BucketKeys...)
		l.Bounds = make([]float64, len(l.keys))
		for i, k := range l.keys {
			l.Bounds[i] = k * m
		}
		// The sum key is the last key + 1, when that is a possible map key.
		if s := l.keys[len(l.keys)-1] + 1; s >= 0 && s < 1<<64 && s == math.Trunc(s) {
			l.sumKey, l.hasSum = uint64(s), true
		}
	case "":
		return nil, errors.New("no bucket_type (exp2, exp2zero, linear or fixed)")
	default:
		return nil, fmt.Errorf("unknown bucket_type %q (exp2, exp2zero, linear or fixed)", h.BucketType)
	}

	for i, b := range l.Bounds {
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return nil, fmt.Errorf("bucket %d has upper bound %v: not finite", i, b)
		}
		if i > 0 && b <= l.Bounds[i-1] {
			return nil, fmt.Errorf("bucket %d has upper bound %v, not above the previous %v", i, b, l.Bounds[i-1])
		}
	}
	return l, nil
}

// bound is the upper bound of key k for the computed bucket types.
func bound(t config.BucketType, k uint64, m float64) float64 {
	switch t {
	case config.BucketExp2:
		return math.Ldexp(m, int(min(k, 1<<20)))
	case config.BucketExp2Zero:
		if k == 0 {
			return 0
		}
		return math.Ldexp(m, int(min(k-1, 1<<20)))
	default:
		return float64(k) * m
	}
}

// Index maps a raw bucket key to its bucket index in Bounds.
//
// isSum reports that key is the sum key (idx is then -1). ok reports that key
// is one of the configured bucket keys; when it is not, idx is where the
// key's observations fold (see the package documentation): 0 below the
// lowest bucket, a higher bucket between fixed keys, len(Bounds) (the +Inf
// bucket, counted in _count only) above the highest.
func (l *Layout) Index(key uint64) (idx int, isSum bool, ok bool) {
	if l.hasSum && key == l.sumKey {
		return -1, true, true
	}
	if l.keys != nil {
		k := float64(key)
		i := sort.SearchFloat64s(l.keys, k)
		return i, false, i < len(l.keys) && l.keys[i] == k
	}
	switch {
	case key < l.minKey:
		return 0, false, false
	case key > l.maxKey:
		return len(l.Bounds), false, false
	}
	return int(key - l.minKey), false, true
}

// Series accumulates one series' raw counts.
type Series struct {
	// Counts holds one count per bucket of Bounds (not cumulative), then
	// the count of observations above the highest bound.
	Counts []uint64
	// RawSum is the sum key's value in raw units, if HasSum.
	RawSum uint64
	HasSum bool

	expo *exposition // Histogram's reused storage
}

// NewSeries returns an empty series for l.
func (l *Layout) NewSeries() *Series {
	return &Series{Counts: make([]uint64, len(l.Bounds)+1)}
}

// Reset empties s for reuse.
func (s *Series) Reset() {
	clear(s.Counts)
	s.RawSum, s.HasSum = 0, false
}

// Add adds count observations of bucket key to s. Adding the same key twice
// adds up, as when several map keys decode to the same labels. Keys outside
// the configured buckets fold as Index says.
func (l *Layout) Add(s *Series, key uint64, count uint64) {
	idx, isSum, _ := l.Index(key)
	if isSum {
		s.RawSum += count
		s.HasSum = true
		return
	}
	s.Counts[idx] += count
}

// Count is the number of observations in s: the sum of all its counts.
func (s *Series) Count() uint64 {
	var n uint64
	for _, c := range s.Counts {
		n += c
	}
	return n
}

// Sum is the histogram's _sum: the sum key's value times the multiplier, 0
// when the map has no sum key for the series.
func (l *Layout) Sum(s *Series) float64 {
	return float64(s.RawSum) * l.multiplier
}

// NativeSchema reports whether the layout maps exactly onto the buckets of a
// Prometheus native histogram schema (Native says how it maps when not): exp2 and exp2zero with a multiplier
// that is a power of two map onto schema 0 (bounds 2^i), with exp2zero's key
// 0 as the zero bucket. For exp2, the lowest bucket also holds the values
// below it, as the BPF program puts them there.
func (l *Layout) NativeSchema() (schema int32, exact bool) {
	if l.typ != config.BucketExp2 && l.typ != config.BucketExp2Zero {
		return 0, false
	}
	if frac, _ := math.Frexp(l.multiplier); frac != 0.5 {
		return 0, false
	}
	return 0, true
}

// KeyValue decodes a bucket key from the last label's raw bytes: an unsigned
// integer of 1, 2, 4 or 8 bytes in host byte order (little endian on amd64
// and arm64), as the BPF program stored it.
func KeyValue(b []byte) (uint64, error) {
	switch len(b) {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.NativeEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.NativeEndian.Uint32(b)), nil
	case 8:
		return binary.NativeEndian.Uint64(b), nil
	}
	return 0, fmt.Errorf("bucket key of %d bytes: want 1, 2, 4 or 8", len(b))
}
