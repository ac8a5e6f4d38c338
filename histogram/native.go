package histogram

import (
	"fmt"
	"math"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// Native histograms
//
// An exp2 or exp2zero histogram is exposed twice in one dto.Histogram: as
// classic cumulative buckets (what the text and OpenMetrics formats show,
// and what a Prometheus without native histograms stores) and as a native
// (sparse, exponential) histogram of schema 0, whose buckets are
// (2^(i-1), 2^i] (what a Prometheus with --enable-feature=native-histograms
// negotiates over protobuf and stores). Linear and fixed histograms stay
// classic only.
//
// The mapping, bucket by bucket:
//
//   - exp2 key k has upper bound 2^k × m. When the multiplier m is 2^e, that
//     is 2^(k+e), exactly the bound of native bucket k+e. The BPF programs put
//     the values below the lowest bound (0 and 1 raw units for bucket_min 0)
//     in the lowest bucket, so they stay in its native bucket (min+e): the
//     native histogram says the same as the classic one, "at most 2^(min+e)".
//   - exp2zero key 0 counts the value 0: it is the native zero bucket. Key
//     k ≥ 1 has upper bound 2^(k-1) × m, native bucket k-1+e.
//   - Observations above the highest bucket (keys above bucket_max, only in
//     _count classically) go to the native bucket just above the highest
//     one, so that the native count equals _count. Programs that clamp keys
//     to bucket_max (all built-ins and the reference's examples) have none.
//
// The zero threshold is the smaller of 2^-128 (client_golang's default) and
// the lower bound of the lowest native bucket, so the zero bucket never
// overlaps a populated one; for exp2 it is always empty. It is positive so
// that every Prometheus version recognises the histogram as native.
//
// A multiplier that is not a power of two (the reference's 1e-6 for
// microseconds, 1e-9 for nanoseconds) puts the classic bounds between native
// ones. The layout then uses schema 0 with e = round(log2 m): each BPF bucket
// lands in the native bucket whose bounds are nearest to its own, both a
// factor of two wide. Native bounds are then off from the true ones by at
// most a factor 2^|log2 m − e|, the relative error NativeMapping.RelError
// reports: 4.9% for 1e-6, 2.4% for 1e-3, 7.4% for 1e-9, at worst 41.4%
// (m = 2^(n+0.5)). Finer schemas would not be more accurate: a BPF bucket is
// a factor of two wide, and putting its whole count in one narrower native
// bucket would claim a resolution the data does not have and move every
// quantile towards the bucket's upper bound, up to a factor of two away from
// what the classic buckets say. Schema 0 is therefore the finest schema with
// a bounded error, and exact for power-of-two multipliers.

// Options tune how a layout's histograms are exposed.
type Options struct {
	// Native adds the native (sparse, exponential) form beside the classic
	// buckets for exp2 and exp2zero layouts. Linear and fixed layouts stay
	// classic whatever it says.
	Native bool
}

// DefaultOptions are the options of NewLayout: native histograms on.
var DefaultOptions = Options{Native: true}

// NewLayoutOptions is NewLayout with explicit options.
func NewLayoutOptions(h config.Histogram, o Options) (*Layout, error) {
	l, err := newLayout(h)
	if err != nil {
		return nil, fmt.Errorf("histogram %q: %w", h.Name, err)
	}
	if o.Native {
		l.native, l.hasNative = nativeMapping(l)
	}
	return l, nil
}

// NativeMapping says how a layout's buckets map onto a native histogram.
type NativeMapping struct {
	// Schema is the native schema: always 0 (bucket i is (2^(i-1), 2^i]).
	Schema int32
	// Base is the native bucket index of Bounds[0], or of Bounds[1] when
	// ZeroBucket is true; bucket j of Bounds goes to Base+j (Base+j-1 with
	// ZeroBucket), and the observations above the highest bound to the
	// index after the highest.
	Base int32
	// ZeroBucket reports that Bounds[0] is exp2zero's key 0 (the value 0),
	// counted in the native zero bucket.
	ZeroBucket bool
	// ZeroThreshold is the native zero bucket's width, [-t, t].
	ZeroThreshold float64
	// RelError bounds the relative error of a native bucket bound against
	// the true BPF bucket bound: 0 when the multiplier is a power of two.
	RelError float64
}

// Native reports the layout's native mapping; ok is false for linear and
// fixed layouts, for layouts made with native histograms off, and for bounds
// beyond float64 range.
func (l *Layout) Native() (m NativeMapping, ok bool) {
	return l.native, l.hasNative
}

// nativeMapping computes the native mapping of l, if it has one.
func nativeMapping(l *Layout) (NativeMapping, bool) {
	if l.typ != config.BucketExp2 && l.typ != config.BucketExp2Zero {
		return NativeMapping{}, false
	}
	// m = frac × 2^exp with frac in [0.5, 1): log2 m lies in [exp-1, exp),
	// and is nearer exp-1 when frac < √½.
	frac, exp := math.Frexp(l.multiplier)
	e := exp - 1
	if frac >= math.Sqrt2/2 {
		e = exp
	}
	relErr := math.Max(l.multiplier/math.Ldexp(1, e), math.Ldexp(1, e)/l.multiplier) - 1
	m := NativeMapping{RelError: relErr}
	first := int64(l.minKey) + int64(e)
	if l.typ == config.BucketExp2Zero {
		if l.minKey == 0 {
			m.ZeroBucket = true
			first = int64(e) // key 1
		} else {
			first--
		}
	}
	// The highest index is the overflow bucket's; both ends must be float64
	// powers of two.
	last := first + int64(len(l.Bounds))
	if first-1 < -1074 || last > 1023 {
		return NativeMapping{}, false
	}
	m.Base = int32(first)
	m.ZeroThreshold = math.Min(math.Ldexp(1, -128), math.Ldexp(1, int(first-1)))
	return m, true
}

// exposition is the dto.Histogram of one series, built in storage the series
// owns and reuses from scrape to scrape.
type exposition struct {
	h          dto.Histogram
	count, cnt uint64
	sum        float64
	cum        []uint64
	buckets    []dto.Bucket
	bucketPtrs []*dto.Bucket

	schema    int32
	zeroThr   float64
	zeroCount uint64
	spans     []dto.BucketSpan
	spanPtrs  []*dto.BucketSpan
	offsets   []int32
	lengths   []uint32
	deltas    []int64
}

// Histogram returns the exposition of s: classic cumulative buckets at every
// bound of l, _count and _sum, and, when l has a native mapping, the native
// histogram. It is built in storage s owns and reuses: the result is valid
// until the next call for s, and allocates only on the first call for s.
// The caller must not modify it.
func (l *Layout) Histogram(s *Series) (*dto.Histogram, error) {
	if len(s.Counts) != len(l.Bounds)+1 {
		return nil, fmt.Errorf("series has %d counts, layout has %d buckets + Inf", len(s.Counts), len(l.Bounds))
	}
	x := s.expo
	if x == nil || len(x.cum) != len(l.Bounds) {
		x = newExposition(l)
		s.expo = x
	}
	var cum uint64
	for i := range l.Bounds {
		cum += s.Counts[i]
		x.cum[i] = cum
	}
	x.count = cum + s.Counts[len(l.Bounds)]
	x.sum = l.Sum(s)
	if l.hasNative {
		l.fillNative(x, s)
	}
	return &x.h, nil
}

func newExposition(l *Layout) *exposition {
	n := len(l.Bounds)
	x := &exposition{
		cum:        make([]uint64, n),
		buckets:    make([]dto.Bucket, n),
		bucketPtrs: make([]*dto.Bucket, n),
	}
	for i := range x.buckets {
		x.buckets[i].UpperBound = &l.Bounds[i]
		x.buckets[i].CumulativeCount = &x.cum[i]
		x.bucketPtrs[i] = &x.buckets[i]
	}
	x.h.SampleCount = &x.count
	x.h.SampleSum = &x.sum
	x.h.Bucket = x.bucketPtrs
	if l.hasNative {
		x.schema = l.native.Schema
		x.zeroThr = l.native.ZeroThreshold
		x.h.Schema = &x.schema
		x.h.ZeroThreshold = &x.zeroThr
		x.h.ZeroCount = &x.zeroCount
		// At most one span per two buckets (gaps of one or two empty
		// buckets are filled in, see fillNative), plus the overflow.
		maxSpans := (n+1)/2 + 1
		x.spans = make([]dto.BucketSpan, maxSpans)
		x.spanPtrs = make([]*dto.BucketSpan, maxSpans)
		x.offsets = make([]int32, maxSpans)
		x.lengths = make([]uint32, maxSpans)
		for i := range x.spans {
			x.spans[i].Offset = &x.offsets[i]
			x.spans[i].Length = &x.lengths[i]
			x.spanPtrs[i] = &x.spans[i]
		}
		x.deltas = make([]int64, 0, n+1)
	}
	return x
}

// fillNative encodes s's counts as native spans and deltas. Like
// client_golang, a run of one or two empty buckets between populated ones is
// sent as zero counts inside a span; longer gaps start a new span. A
// histogram with no populated bucket gets one empty span, which marks it as
// native for every parser.
func (l *Layout) fillNative(x *exposition, s *Series) {
	first := 0
	x.zeroCount = 0
	if l.native.ZeroBucket {
		x.zeroCount = s.Counts[0]
		first = 1
	}
	x.deltas = x.deltas[:0]
	nspans := 0
	var prevCount int64 // the previous bucket count sent, for deltas
	lastIdx := 0        // native index of the last bucket sent
	for i := first; i < len(s.Counts); i++ {
		c := s.Counts[i]
		if c == 0 {
			continue
		}
		idx := int(l.native.Base) + i - first
		switch gap := idx - lastIdx - 1; {
		case nspans > 0 && gap <= 2:
			for range gap {
				x.deltas = append(x.deltas, -prevCount)
				prevCount = 0
			}
			x.lengths[nspans-1] += uint32(gap) + 1
		case nspans == 0:
			x.offsets[0], x.lengths[0] = int32(idx), 1
			nspans = 1
		default:
			x.offsets[nspans], x.lengths[nspans] = int32(gap), 1
			nspans++
		}
		n := int64(min(c, math.MaxInt64)) // the format's bucket counts are int64: saturate
		x.deltas = append(x.deltas, n-prevCount)
		prevCount = n
		lastIdx = idx
	}
	if nspans == 0 {
		x.offsets[0], x.lengths[0] = 0, 0
		nspans = 1
	}
	x.h.PositiveSpan = x.spanPtrs[:nspans]
	x.h.PositiveDelta = x.deltas
}

// constHistogram is the prometheus.Metric of Layout.Metric.
type constHistogram struct {
	desc   *prometheus.Desc
	h      *dto.Histogram
	labels []*dto.LabelPair
}

func (m *constHistogram) Desc() *prometheus.Desc { return m.desc }

func (m *constHistogram) Write(out *dto.Metric) error {
	out.Histogram = m.h
	out.Label = m.labels
	return nil
}

// Metric builds the const histogram of s: the exposition of Histogram, with
// classic buckets and, where the layout has them, native ones. Unlike
// Histogram the metric is a snapshot, independent of s: it owns copies of
// the counts. Label values must match desc's variable labels.
func (l *Layout) Metric(desc *prometheus.Desc, s *Series, labelValues []string) (prometheus.Metric, error) {
	if len(s.Counts) != len(l.Bounds)+1 {
		return nil, fmt.Errorf("series has %d counts, layout has %d buckets + Inf", len(s.Counts), len(l.Bounds))
	}
	// MustNewConstMetric's label checks and sorting, without its metric.
	pairs, err := labelPairs(desc, labelValues)
	if err != nil {
		return nil, err
	}
	snap := &Series{Counts: s.Counts, RawSum: s.RawSum, HasSum: s.HasSum}
	h, err := l.Histogram(snap)
	if err != nil {
		return nil, err
	}
	return &constHistogram{desc: desc, h: h, labels: pairs}, nil
}

// labelPairs checks labelValues against desc and returns the series' label
// pairs, sorted as the registry expects. prometheus.NewConstMetric does the
// checks (desc's own error, the number of values, UTF-8).
func labelPairs(desc *prometheus.Desc, labelValues []string) ([]*dto.LabelPair, error) {
	m, err := prometheus.NewConstMetric(desc, prometheus.UntypedValue, 0, labelValues...)
	if err != nil {
		return nil, err
	}
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		return nil, err
	}
	return pb.Label, nil
}
