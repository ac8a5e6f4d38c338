package histogram

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

type bucket struct {
	le    float64
	count uint64 // cumulative
}

type readBack struct {
	buckets []bucket
	count   uint64
	sum     float64
	labels  map[string]string
}

var desc = prometheus.NewDesc("ebpf_exporter_test_seconds", "test", []string{"device"}, nil)

// build adds the raw (key, count) pairs to a new series and reads the
// resulting metric back through the Prometheus data model.
func build(t *testing.T, h config.Histogram, raw map[uint64]uint64) readBack {
	t.Helper()
	l, err := NewLayout(h)
	if err != nil {
		t.Fatalf("NewLayout: %v", err)
	}
	s := l.NewSeries()
	for k, c := range raw {
		l.Add(s, k, c)
	}
	m, err := l.Metric(desc, s, []string{"sda"})
	if err != nil {
		t.Fatalf("Metric: %v", err)
	}
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatalf("Write: %v", err)
	}
	rb := readBack{
		count:  pb.GetHistogram().GetSampleCount(),
		sum:    pb.GetHistogram().GetSampleSum(),
		labels: map[string]string{},
	}
	for _, b := range pb.GetHistogram().GetBucket() {
		rb.buckets = append(rb.buckets, bucket{b.GetUpperBound(), b.GetCumulativeCount()})
	}
	for _, lp := range pb.GetLabel() {
		rb.labels[lp.GetName()] = lp.GetValue()
	}
	return rb
}

func expect(t *testing.T, got readBack, buckets []bucket, count uint64, sum float64) {
	t.Helper()
	if !slices.Equal(got.buckets, buckets) {
		t.Errorf("buckets:\n got %v\nwant %v", got.buckets, buckets)
	}
	if got.count != count {
		t.Errorf("count = %d, want %d", got.count, count)
	}
	if got.sum != sum {
		t.Errorf("sum = %v, want %v", got.sum, sum)
	}
	if got.labels["device"] != "sda" {
		t.Errorf("labels = %v, want device=sda", got.labels)
	}
}

func TestExp2(t *testing.T) {
	h := config.Histogram{Name: "lat", BucketType: config.BucketExp2, BucketMin: 0, BucketMax: 3, BucketMultiplier: 1}
	// Key 1 missing; key 4 is the sum key.
	got := build(t, h, map[uint64]uint64{0: 2, 2: 5, 3: 1, 4: 40})
	expect(t, got, []bucket{{1, 2}, {2, 2}, {4, 7}, {8, 8}}, 8, 40)
}

func TestExp2Multiplier(t *testing.T) {
	h := config.Histogram{Name: "lat", BucketType: config.BucketExp2, BucketMin: 2, BucketMax: 4, BucketMultiplier: 0.000001}
	got := build(t, h, map[uint64]uint64{2: 1, 3: 2, 4: 3, 5: 1000})
	expect(t, got, []bucket{{4e-6, 1}, {8e-6, 3}, {16e-6, 6}}, 6, 1000*0.000001)
}

func TestExp2NoSumKey(t *testing.T) {
	h := config.Histogram{Name: "lat", BucketType: config.BucketExp2, BucketMin: 0, BucketMax: 2, BucketMultiplier: 1}
	got := build(t, h, map[uint64]uint64{1: 3})
	expect(t, got, []bucket{{1, 0}, {2, 3}, {4, 3}}, 3, 0)
}

func TestExp2Empty(t *testing.T) {
	h := config.Histogram{Name: "lat", BucketType: config.BucketExp2, BucketMin: 0, BucketMax: 2, BucketMultiplier: 1}
	got := build(t, h, nil)
	expect(t, got, []bucket{{1, 0}, {2, 0}, {4, 0}}, 0, 0)
}

func TestExp2OutOfRange(t *testing.T) {
	h := config.Histogram{Name: "lat", BucketType: config.BucketExp2, BucketMin: 2, BucketMax: 4, BucketMultiplier: 1}
	// Keys 0 and 1 fold into the lowest bucket (le 4); key 5 is the sum
	// key; keys 6 and 63 are above the highest bucket: +Inf (count) only.
	got := build(t, h, map[uint64]uint64{0: 1, 1: 10, 2: 100, 3: 1000, 5: 7, 6: 10000, 63: 100000})
	expect(t, got, []bucket{{4, 111}, {8, 1111}, {16, 1111}}, 111111, 7)
}

func TestExp2Zero(t *testing.T) {
	h := config.Histogram{Name: "lat", BucketType: config.BucketExp2Zero, BucketMin: 0, BucketMax: 4, BucketMultiplier: 1}
	got := build(t, h, map[uint64]uint64{0: 3, 1: 1, 3: 2, 4: 4, 5: 99})
	// Key 0: value 0; key k: up to 2^(k-1).
	expect(t, got, []bucket{{0, 3}, {1, 4}, {2, 4}, {4, 6}, {8, 10}}, 10, 99)
}

func TestExp2ZeroMultiplier(t *testing.T) {
	h := config.Histogram{Name: "lat", BucketType: config.BucketExp2Zero, BucketMin: 0, BucketMax: 2, BucketMultiplier: 1024}
	got := build(t, h, map[uint64]uint64{0: 1, 1: 1, 2: 1, 3: 5})
	expect(t, got, []bucket{{0, 1}, {1024, 2}, {2048, 3}}, 3, 5*1024)
}

func TestLinear(t *testing.T) {
	h := config.Histogram{Name: "qd", BucketType: config.BucketLinear, BucketMin: 0, BucketMax: 5, BucketMultiplier: 1}
	got := build(t, h, map[uint64]uint64{0: 1, 2: 2, 5: 3, 6: 17, 9: 4})
	expect(t, got, []bucket{{0, 1}, {1, 1}, {2, 3}, {3, 3}, {4, 3}, {5, 6}}, 10, 17)
}

func TestLinearMultiplier(t *testing.T) {
	h := config.Histogram{Name: "qd", BucketType: config.BucketLinear, BucketMin: 10, BucketMax: 12, BucketMultiplier: 0.5}
	got := build(t, h, map[uint64]uint64{3: 1, 11: 2, 12: 3, 13: 8})
	expect(t, got, []bucket{{5, 1}, {5.5, 3}, {6, 6}}, 6, 4)
}

func TestFixed(t *testing.T) {
	h := config.Histogram{Name: "sz", BucketType: config.BucketFixed, BucketKeys: []float64{1, 10, 100, 1000}, BucketMultiplier: 1}
	// Key 1001 is the sum key (last + 1). Key 50 is between 10 and 100:
	// it folds into le 100; 5000 is above: +Inf only; 0 folds into le 1.
	got := build(t, h, map[uint64]uint64{0: 1, 1: 2, 10: 3, 50: 4, 1000: 5, 1001: 6789, 5000: 6})
	expect(t, got, []bucket{{1, 3}, {10, 6}, {100, 10}, {1000, 15}}, 21, 6789)
}

func TestFixedMultiplier(t *testing.T) {
	h := config.Histogram{Name: "sz", BucketType: config.BucketFixed, BucketKeys: []float64{5, 20}, BucketMultiplier: 0.25}
	got := build(t, h, map[uint64]uint64{20: 1, 21: 40})
	expect(t, got, []bucket{{1.25, 0}, {5, 1}}, 1, 10)
}

func TestFixedNoSumKey(t *testing.T) {
	l, err := NewLayout(config.Histogram{Name: "sz", BucketType: config.BucketFixed, BucketKeys: []float64{1, 2.5}, BucketMultiplier: 1})
	if err != nil {
		t.Fatal(err)
	}
	// 2.5 + 1 is no integer: there is no sum key, and 3 and 4 are above the range.
	for _, k := range []uint64{3, 4} {
		if idx, isSum, ok := l.Index(k); isSum || ok || idx != 2 {
			t.Errorf("Index(%d) = %d, %v, %v; want 2, false, false", k, idx, isSum, ok)
		}
	}
	if idx, _, ok := l.Index(2); ok || idx != 1 {
		t.Errorf("Index(2) = %d, %v; want 1 (folded into le 2.5), false", idx, ok)
	}
}

func TestIndex(t *testing.T) {
	l, err := NewLayout(config.Histogram{Name: "lat", BucketType: config.BucketExp2, BucketMin: 3, BucketMax: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Bounds, []float64{8, 16, 32}) {
		t.Errorf("Bounds = %v (multiplier 0 means 1)", l.Bounds)
	}
	cases := []struct {
		key       uint64
		idx       int
		isSum, ok bool
	}{
		{0, 0, false, false},
		{2, 0, false, false},
		{3, 0, false, true},
		{4, 1, false, true},
		{5, 2, false, true},
		{6, -1, true, true},
		{7, 3, false, false},
		{math.MaxUint64, 3, false, false},
	}
	for _, c := range cases {
		idx, isSum, ok := l.Index(c.key)
		if idx != c.idx || isSum != c.isSum || ok != c.ok {
			t.Errorf("Index(%d) = %d, %v, %v; want %d, %v, %v", c.key, idx, isSum, ok, c.idx, c.isSum, c.ok)
		}
	}
}

func TestSeriesAddsUpAndResets(t *testing.T) {
	l, err := NewLayout(config.Histogram{Name: "lat", BucketType: config.BucketLinear, BucketMin: 0, BucketMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := l.NewSeries()
	l.Add(s, 1, 2)
	l.Add(s, 1, 3)
	l.Add(s, 2, 4)
	l.Add(s, 2, 1)
	if !slices.Equal(s.Counts, []uint64{0, 5, 0}) || s.RawSum != 5 || !s.HasSum || s.Count() != 5 {
		t.Errorf("series = %+v", s)
	}
	s.Reset()
	if !slices.Equal(s.Counts, []uint64{0, 0, 0}) || s.RawSum != 0 || s.HasSum {
		t.Errorf("after Reset: %+v", s)
	}
}

func TestMetricErrors(t *testing.T) {
	l, err := NewLayout(config.Histogram{Name: "lat", BucketType: config.BucketExp2, BucketMax: 3})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewLayout(config.Histogram{Name: "x", BucketType: config.BucketExp2, BucketMax: 5})
	if _, err := l.Metric(desc, other.NewSeries(), []string{"a"}); err == nil {
		t.Error("series of another layout: no error")
	}
	if _, err := l.Metric(desc, l.NewSeries(), nil); err == nil {
		t.Error("missing label value: no error")
	}
}

func TestNewLayoutErrors(t *testing.T) {
	cases := []struct {
		h    config.Histogram
		want string
	}{
		{config.Histogram{BucketType: "log10"}, "unknown bucket_type"},
		{config.Histogram{}, "no bucket_type"},
		{config.Histogram{BucketType: config.BucketExp2, BucketMin: -1}, "negative"},
		{config.Histogram{BucketType: config.BucketExp2, BucketMin: 3, BucketMax: 2}, "below bucket_min"},
		{config.Histogram{BucketType: config.BucketExp2, BucketMax: 100000}, "more than"},
		{config.Histogram{BucketType: config.BucketExp2, BucketMax: 1030}, "not finite"},
		{config.Histogram{BucketType: config.BucketLinear, BucketMax: math.MaxInt}, "more than"},
		{config.Histogram{BucketType: config.BucketLinear, BucketMultiplier: -1}, "positive"},
		{config.Histogram{BucketType: config.BucketLinear, BucketMultiplier: math.NaN()}, "positive"},
		{config.Histogram{BucketType: config.BucketLinear, BucketMultiplier: math.Inf(1)}, "positive"},
		{config.Histogram{BucketType: config.BucketLinear, BucketMin: 1 << 60, BucketMax: 1<<60 + 1}, "not above"},
		{config.Histogram{BucketType: config.BucketFixed}, "empty"},
		{config.Histogram{BucketType: config.BucketFixed, BucketKeys: []float64{2, 1}}, "not above"},
		{config.Histogram{BucketType: config.BucketFixed, BucketKeys: []float64{1, math.NaN()}}, "not finite"},
	}
	for _, c := range cases {
		c.h.Name = "bad_hist"
		_, err := NewLayout(c.h)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad_hist") {
			t.Errorf("NewLayout(%+v) = %v, want an error naming the histogram and containing %q", c.h, err, c.want)
		}
	}
}

func TestNativeSchema(t *testing.T) {
	cases := []struct {
		typ   config.BucketType
		mult  float64
		exact bool
	}{
		{config.BucketExp2, 1, true},
		{config.BucketExp2, 0, true},
		{config.BucketExp2, 1024, true},
		{config.BucketExp2, 1.0 / 1024, true},
		{config.BucketExp2Zero, 4, true},
		{config.BucketExp2, 0.000001, false},
		{config.BucketExp2Zero, 3, false},
		{config.BucketLinear, 1, false},
		{config.BucketFixed, 1, false},
	}
	for _, c := range cases {
		h := config.Histogram{BucketType: c.typ, BucketMax: 3, BucketMultiplier: c.mult}
		if c.typ == config.BucketFixed {
			h.BucketMax, h.BucketKeys = 0, []float64{1, 2}
		}
		l, err := NewLayout(h)
		if err != nil {
			t.Fatal(err)
		}
		if schema, exact := l.NativeSchema(); schema != 0 || exact != c.exact {
			t.Errorf("%s × %v: NativeSchema = %d, %v; want 0, %v", c.typ, c.mult, schema, exact, c.exact)
		}
	}
}

func TestKeyValue(t *testing.T) {
	// Keys are in host byte order, as the BPF program stored them.
	ne := binary.NativeEndian
	cases := []struct {
		b    []byte
		want uint64
	}{
		{[]byte{0x7f}, 0x7f},
		{ne.AppendUint16(nil, 0xbeef), 0xbeef},
		{ne.AppendUint32(nil, 0xdeadbeef), 0xdeadbeef},
		{ne.AppendUint64(nil, 0xff07060504030201), 0xff07060504030201},
	}
	for _, c := range cases {
		got, err := KeyValue(c.b)
		if err != nil || got != c.want {
			t.Errorf("KeyValue(%x) = %#x, %v; want %#x", c.b, got, err, c.want)
		}
	}
	for _, n := range []int{0, 3, 5, 16} {
		if _, err := KeyValue(make([]byte, n)); err == nil {
			t.Errorf("KeyValue of %d bytes: no error", n)
		}
	}
}
