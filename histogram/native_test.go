package histogram

import (
	"bytes"
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// runqlat is the layout of the built-in time histograms: exp2 in units of
// 2^-30 s.
var runqlat = config.Histogram{Name: "run_queue_latency_seconds", BucketType: config.BucketExp2, BucketMax: 36, BucketMultiplier: math.Ldexp(1, -30)}

// nativeBuckets decodes a native histogram's positive spans and deltas into
// absolute bucket index → count, checking the encoding on the way.
func nativeBuckets(t *testing.T, h *dto.Histogram) map[int]uint64 {
	t.Helper()
	out := map[int]uint64{}
	var idx int
	var count int64
	d := 0
	for i, s := range h.GetPositiveSpan() {
		if i > 0 && s.GetOffset() < 0 {
			t.Fatalf("span %d has negative offset %d", i, s.GetOffset())
		}
		idx += int(s.GetOffset())
		for range s.GetLength() {
			if d >= len(h.GetPositiveDelta()) {
				t.Fatalf("spans cover more buckets than the %d deltas", len(h.GetPositiveDelta()))
			}
			count += h.GetPositiveDelta()[d]
			d++
			if count < 0 {
				t.Fatalf("bucket %d has negative count %d", idx, count)
			}
			if count > 0 {
				out[idx] = uint64(count)
			}
			idx++
		}
	}
	if d != len(h.GetPositiveDelta()) {
		t.Fatalf("spans cover %d buckets, %d deltas", d, len(h.GetPositiveDelta()))
	}
	return out
}

// checkNative checks that h is a valid native histogram with the given
// buckets and zero count: total count, encoding, and what client_golang's
// own constructor and the OpenMetrics 2.0 encoder accept.
func checkNative(t *testing.T, l *Layout, h *dto.Histogram, want map[int]uint64, zero uint64) {
	t.Helper()
	if h.Schema == nil || h.GetSchema() != 0 {
		t.Fatalf("schema = %v, want 0", h.Schema)
	}
	got := nativeBuckets(t, h)
	if !maps.Equal(got, want) {
		t.Errorf("native buckets:\n got %v\nwant %v", got, want)
	}
	if h.GetZeroCount() != zero {
		t.Errorf("zero count = %d, want %d", h.GetZeroCount(), zero)
	}
	total := h.GetZeroCount()
	for _, c := range got {
		total += c
	}
	if total != h.GetSampleCount() {
		t.Errorf("native count %d (zero %d + buckets), _count %d", total, h.GetZeroCount(), h.GetSampleCount())
	}
	if thr := h.GetZeroThreshold(); thr <= 0 || thr > math.Ldexp(1, -128) {
		t.Errorf("zero threshold %g, want in (0, 2^-128]", thr)
	}
	for idx := range got {
		if lower := math.Ldexp(1, idx-1); h.GetZeroThreshold() > lower {
			t.Errorf("zero threshold %g overlaps bucket %d (lower bound %g)", h.GetZeroThreshold(), idx, lower)
		}
	}

	// client_golang validates count = zero + buckets and builds its own
	// spans: the decoded buckets must be the same.
	pos := map[int]int64{}
	for k, v := range got {
		pos[k] = int64(v)
	}
	ref, err := prometheus.NewConstNativeHistogram(desc, h.GetSampleCount(), h.GetSampleSum(), pos, nil, h.GetZeroCount(), 0, h.GetZeroThreshold(), time.Time{}, "sda")
	if err != nil {
		t.Fatalf("NewConstNativeHistogram rejects the histogram: %v", err)
	}
	var refPB dto.Metric
	if err := ref.Write(&refPB); err != nil {
		t.Fatal(err)
	}
	if rb := nativeBuckets(t, refPB.Histogram); !maps.Equal(rb, got) {
		t.Errorf("client_golang's encoding of the same buckets: %v, ours %v", rb, got)
	}

	// The OpenMetrics 2.0 encoder validates spans and deltas.
	name := "ebpf_exporter_test_seconds"
	typ := dto.MetricType_HISTOGRAM
	mf := &dto.MetricFamily{Name: &name, Type: &typ, Metric: []*dto.Metric{{Histogram: h}}}
	var buf bytes.Buffer
	if _, err := expfmt.MetricFamilyToOpenMetrics20(&buf, mf); err != nil {
		t.Errorf("OpenMetrics 2.0 encoder: %v", err)
	}
	// And it survives a protobuf round trip, as Prometheus receives it.
	b, err := proto.Marshal(mf)
	if err != nil {
		t.Fatal(err)
	}
	var back dto.MetricFamily
	if err := proto.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(nativeBuckets(t, back.Metric[0].Histogram), got) {
		t.Error("protobuf round trip changed the native buckets")
	}
}

func histogramOf(t *testing.T, h config.Histogram, o Options, raw map[uint64]uint64) (*Layout, *dto.Histogram) {
	t.Helper()
	l, err := NewLayoutOptions(h, o)
	if err != nil {
		t.Fatal(err)
	}
	s := l.NewSeries()
	for k, c := range raw {
		l.Add(s, k, c)
	}
	pb, err := l.Histogram(s)
	if err != nil {
		t.Fatal(err)
	}
	return l, pb
}

func TestNativeExp2PowerOfTwo(t *testing.T) {
	// Built-in time histograms: key k has bound 2^(k-30) s, native index k-30.
	l, h := histogramOf(t, runqlat, DefaultOptions, map[uint64]uint64{0: 2, 10: 5, 11: 7, 14: 1, 30: 3, 37: 1 << 30})
	m, ok := l.Native()
	if !ok || m.Base != -30 || m.RelError != 0 || m.ZeroBucket || m.ZeroThreshold != math.Ldexp(1, -128) {
		t.Fatalf("Native() = %+v, %v", m, ok)
	}
	checkNative(t, l, h, map[int]uint64{-30: 2, -20: 5, -19: 7, -16: 1, 0: 3}, 0)
	// Gaps of up to two empty buckets are inside a span, longer ones are not.
	spans := h.GetPositiveSpan()
	if len(spans) != 3 || spans[0].GetOffset() != -30 || spans[0].GetLength() != 1 ||
		spans[1].GetOffset() != 9 || spans[1].GetLength() != 5 || spans[2].GetOffset() != 15 || spans[2].GetLength() != 1 {
		t.Errorf("spans %v", spans)
	}
	if want := []int64{2, 3, 2, -7, 0, 1, 2}; !slicesEqual(h.GetPositiveDelta(), want) {
		t.Errorf("deltas %v, want %v", h.GetPositiveDelta(), want)
	}
	// The classic buckets are still there, cumulative.
	if len(h.Bucket) != 37 || h.Bucket[36].GetCumulativeCount() != 18 || h.Bucket[10].GetUpperBound() != math.Ldexp(1, -20) {
		t.Errorf("classic buckets %v", h.Bucket)
	}
	if h.GetSampleSum() != float64(1<<30)*math.Ldexp(1, -30) {
		t.Errorf("sum %v", h.GetSampleSum())
	}
}

func slicesEqual(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNativeExp2Zero(t *testing.T) {
	// Key 0 is the value 0: the zero bucket. Key k ≥ 1 has bound 2^(k-1).
	h := config.Histogram{Name: "x", BucketType: config.BucketExp2Zero, BucketMax: 10}
	l, pb := histogramOf(t, h, DefaultOptions, map[uint64]uint64{0: 4, 1: 1, 2: 2, 10: 3})
	if m, _ := l.Native(); !m.ZeroBucket || m.Base != 0 {
		t.Fatalf("Native() = %+v", m)
	}
	checkNative(t, l, pb, map[int]uint64{0: 1, 1: 2, 9: 3}, 4)

	// bucket_min above 0: no zero bucket, key k still at index k-1.
	h.BucketMin = 3
	l, pb = histogramOf(t, h, DefaultOptions, map[uint64]uint64{3: 1, 4: 1})
	if m, _ := l.Native(); m.ZeroBucket || m.Base != 2 {
		t.Fatalf("Native() = %+v", m)
	}
	checkNative(t, l, pb, map[int]uint64{2: 1, 3: 1}, 0)
}

func TestNativeOverflow(t *testing.T) {
	// Keys above bucket_max (not the sum key) are in _count only
	// classically; natively they go just above the highest bucket. Keys
	// below bucket_min fold into the lowest bucket, as classically.
	h := config.Histogram{Name: "x", BucketType: config.BucketExp2, BucketMin: 2, BucketMax: 5}
	l, pb := histogramOf(t, h, DefaultOptions, map[uint64]uint64{0: 1, 3: 1, 6: 9, 7: 2})
	checkNative(t, l, pb, map[int]uint64{2: 1, 3: 1, 6: 2}, 0)
	if pb.GetSampleCount() != 4 || pb.GetSampleSum() != 9 {
		t.Errorf("count %d sum %v", pb.GetSampleCount(), pb.GetSampleSum())
	}
}

func TestNativeSaturates(t *testing.T) {
	// Native bucket counts are int64 in the format: a count above 2^63-1
	// is sent as 2^63-1, never as a negative delta.
	h := config.Histogram{Name: "x", BucketType: config.BucketExp2, BucketMax: 4}
	_, pb := histogramOf(t, h, DefaultOptions, map[uint64]uint64{1: 1<<63 + 5, 2: 3})
	if want := []int64{math.MaxInt64, 3 - math.MaxInt64}; !slicesEqual(pb.GetPositiveDelta(), want) {
		t.Errorf("deltas %v, want %v", pb.GetPositiveDelta(), want)
	}
	if pb.GetSampleCount() != 1<<63+8 {
		t.Errorf("_count %d, want 2^63+8", pb.GetSampleCount())
	}
}

func TestNativeEmpty(t *testing.T) {
	// An empty histogram still says it is native: one empty span.
	l, pb := histogramOf(t, runqlat, DefaultOptions, nil)
	checkNative(t, l, pb, map[int]uint64{}, 0)
	if s := pb.GetPositiveSpan(); len(s) != 1 || s[0].GetLength() != 0 || len(pb.GetPositiveDelta()) != 0 {
		t.Errorf("spans %v deltas %v", s, pb.GetPositiveDelta())
	}
}

func TestNativeNotPowerOfTwo(t *testing.T) {
	cases := []struct {
		mult   float64
		base   int32 // of key 0
		relErr float64
	}{
		{1e-6, -20, 0.048576},    // 2^-20 = 0.95367e-6
		{1e-3, -10, 0.024},       // 2^-10 = 0.9765625e-3
		{1e-9, -30, 0.073741824}, // 2^-30 = 1.0737e-9
		{3, 2, 1.0 / 3},          // 2^1.585 → 2^2 = 4
		{1.4142, 0, 0.4142},      // just below √2: 2^0
		{1.4143, 1, 0.41417},     // just above: 2^1
	}
	for _, c := range cases {
		h := config.Histogram{Name: "x", BucketType: config.BucketExp2, BucketMax: 26, BucketMultiplier: c.mult}
		l, pb := histogramOf(t, h, DefaultOptions, map[uint64]uint64{0: 1, 5: 2, 26: 3})
		m, ok := l.Native()
		if !ok || m.Base != c.base || math.Abs(m.RelError-c.relErr) > 1e-4 {
			t.Errorf("multiplier %v: Native() = %+v, %v; want base %d, error %v", c.mult, m, ok, c.base, c.relErr)
			continue
		}
		if m.RelError > math.Sqrt2-1+1e-12 {
			t.Errorf("multiplier %v: error %v above √2-1", c.mult, m.RelError)
		}
		// Each native bound is within RelError of the classic one.
		for k, b := range l.Bounds {
			nb := math.Ldexp(1, int(c.base)+k)
			if r := math.Max(nb/b, b/nb) - 1; r > m.RelError*(1+1e-12) {
				t.Errorf("multiplier %v: key %d bound %g native %g: error %v > %v", c.mult, k, b, nb, r, m.RelError)
			}
		}
		b := int(c.base)
		checkNative(t, l, pb, map[int]uint64{b: 1, b + 5: 2, b + 26: 3}, 0)
	}
}

func TestNativeOff(t *testing.T) {
	_, pb := histogramOf(t, runqlat, Options{Native: false}, map[uint64]uint64{3: 1})
	if pb.Schema != nil || pb.ZeroThreshold != nil || pb.PositiveSpan != nil || pb.PositiveDelta != nil {
		t.Errorf("native fields with Native off: %v", pb)
	}
	for _, h := range []config.Histogram{
		{Name: "x", BucketType: config.BucketLinear, BucketMax: 10},
		{Name: "x", BucketType: config.BucketFixed, BucketKeys: []float64{1, 10, 100}},
	} {
		l, pb := histogramOf(t, h, DefaultOptions, map[uint64]uint64{1: 1})
		if _, ok := l.Native(); ok || pb.Schema != nil || pb.PositiveSpan != nil {
			t.Errorf("%s: native fields: %v", h.BucketType, pb)
		}
		if pb.GetSampleCount() != 1 {
			t.Errorf("%s: count %d", h.BucketType, pb.GetSampleCount())
		}
	}
	// The bucket above the highest would be 2^1024: not native.
	l, err := NewLayout(config.Histogram{Name: "x", BucketType: config.BucketExp2, BucketMax: 8, BucketMultiplier: math.Ldexp(1, 1015)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Native(); ok {
		t.Error("native mapping reaching 2^1026")
	}
}

// TestHistogramReuse checks that a steady-state Histogram call allocates
// nothing and reflects the series' current counts.
func TestHistogramReuse(t *testing.T) {
	l, err := NewLayout(runqlat)
	if err != nil {
		t.Fatal(err)
	}
	s := l.NewSeries()
	fill := func(n uint64) {
		s.Reset()
		for k := range uint64(37) {
			if k%3 != 0 {
				l.Add(s, k, n+k)
			}
		}
		l.Add(s, 37, 1000)
	}
	fill(1)
	if _, err := l.Histogram(s); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		fill(2)
		if _, err := l.Histogram(s); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per steady-state Histogram", allocs)
	}
	fill(5)
	pb, _ := l.Histogram(s)
	want := map[int]uint64{}
	var total uint64
	for k := range 37 {
		if k%3 != 0 {
			want[k-30] = uint64(5 + k)
			total += uint64(5 + k)
		}
	}
	checkNative(t, l, pb, want, 0)
	if pb.GetSampleCount() != total || pb.Bucket[36].GetCumulativeCount() != total {
		t.Errorf("count %d, want %d", pb.GetSampleCount(), total)
	}
}

// TestMetricExposition writes Layout.Metric through a registry in the
// text, OpenMetrics and protobuf formats: text and OpenMetrics show the
// classic buckets, protobuf carries both.
func TestMetricExposition(t *testing.T) {
	l, err := NewLayout(runqlat)
	if err != nil {
		t.Fatal(err)
	}
	s := l.NewSeries()
	l.Add(s, 20, 3)
	l.Add(s, 37, 1<<20)
	m, err := l.Metric(desc, s, []string{"sda"})
	if err != nil {
		t.Fatal(err)
	}
	// The metric is a snapshot: later changes to s do not show.
	l.Add(s, 21, 100)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(constCollector{m})
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	h := fams[0].Metric[0].Histogram
	checkNative(t, l, h, map[int]uint64{-10: 3}, 0)

	var text, om bytes.Buffer
	if _, err := expfmt.MetricFamilyToText(&text, fams[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := expfmt.MetricFamilyToOpenMetrics(&om, fams[0]); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "openmetrics": om.String()} {
		for _, want := range []string{
			`ebpf_exporter_test_seconds_bucket{device="sda",le="0.0009765625"} 3`,
			`ebpf_exporter_test_seconds_bucket{device="sda",le="+Inf"} 3`,
			`ebpf_exporter_test_seconds_count{device="sda"} 3`,
			`ebpf_exporter_test_seconds_sum{device="sda"} 0.0009765625`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s exposition lacks %s:\n%s", name, want, out)
			}
		}
		if strings.Contains(out, "_created") {
			t.Errorf("%s exposition has a _created line for a const histogram:\n%s", name, out)
		}
	}
}

type constCollector struct{ m prometheus.Metric }

func (c constCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.m.Desc() }
func (c constCollector) Collect(ch chan<- prometheus.Metric) { ch <- c.m }
