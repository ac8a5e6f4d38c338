package histogram

import (
	"encoding/binary"
	"math"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

var bucketTypes = []config.BucketType{config.BucketExp2, config.BucketExp2Zero, config.BucketLinear, config.BucketFixed, "bogus"}

// FuzzLayoutAdd builds layouts from random config numbers, adds random keys
// and checks the histogram is consistent: no panic, cumulative buckets,
// _count the sum of everything but the sum key, native buckets adding up
// to _count.
func FuzzLayoutAdd(f *testing.F) {
	f.Add(uint8(0), 0, 26, 1.0, 1.0, 10.0, 100.0, []byte{3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(1), 0, 8, 0.001, 0.0, 0.0, 0.0, []byte{0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(2), 10, 20, 0.5, 0.0, 0.0, 0.0, []byte{21, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(3), 0, 0, 1e-6, 5.0, 50.0, 500.0, []byte{49, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, typ uint8, bmin, bmax int, mult, k0, k1, k2 float64, data []byte) {
		h := config.Histogram{
			Name:             "fuzz",
			BucketType:       bucketTypes[int(typ)%len(bucketTypes)],
			BucketMin:        bmin,
			BucketMax:        bmax,
			BucketMultiplier: mult,
		}
		if h.BucketType == config.BucketFixed {
			h.BucketKeys = []float64{k0, k1, k2}
		}
		l, err := NewLayout(h)
		if err != nil {
			return
		}
		if len(l.Bounds) == 0 || len(l.Bounds) > MaxBuckets {
			t.Fatalf("%d bounds", len(l.Bounds))
		}
		s := l.NewSeries()
		var want uint64
		var wantSum uint64
		for ; len(data) >= 16; data = data[16:] {
			key := binary.LittleEndian.Uint64(data)
			// Keep every total below 2^62: native bucket counts are int64,
			// and real map counters never come near that.
			count := binary.LittleEndian.Uint64(data[8:]) >> 8
			if want+wantSum+count >= 1<<62 {
				break
			}
			idx, isSum, ok := l.Index(key)
			if isSum {
				wantSum += count
			} else {
				want += count
				if idx < 0 || idx > len(l.Bounds) {
					t.Fatalf("Index(%d) = %d, out of [0, %d]", key, idx, len(l.Bounds))
				}
				if ok && idx == len(l.Bounds) {
					t.Fatalf("Index(%d) = +Inf bucket but ok", key)
				}
			}
			l.Add(s, key, count)
		}
		m, err := l.Metric(desc, s, []string{"x"})
		if err != nil {
			t.Fatalf("Metric: %v", err)
		}
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatalf("Write: %v", err)
		}
		hist := pb.GetHistogram()
		if hist.GetSampleCount() != want || s.RawSum != wantSum {
			t.Fatalf("count %d sum %d, want %d and %d", hist.GetSampleCount(), s.RawSum, want, wantSum)
		}
		if got := hist.GetSampleSum(); got != float64(wantSum)*l.multiplier && !math.IsInf(got, 0) {
			t.Fatalf("sum %v, want %v", got, float64(wantSum)*l.multiplier)
		}
		buckets := hist.GetBucket()
		if len(buckets) != len(l.Bounds) {
			t.Fatalf("%d buckets, want %d", len(buckets), len(l.Bounds))
		}
		var prev uint64
		for i, b := range buckets {
			if b.GetUpperBound() != l.Bounds[i] || b.GetCumulativeCount() < prev {
				t.Fatalf("bucket %d: %v/%d after %d", i, b.GetUpperBound(), b.GetCumulativeCount(), prev)
			}
			prev = b.GetCumulativeCount()
		}
		if prev > want {
			t.Fatalf("highest bucket %d above count %d", prev, want)
		}
		if _, ok := l.Native(); ok {
			var total uint64
			for _, c := range nativeBuckets(t, hist) {
				total += c
			}
			if total+hist.GetZeroCount() != want {
				t.Fatalf("native buckets hold %d + zero %d, want %d", total, hist.GetZeroCount(), want)
			}
		} else if hist.Schema != nil {
			t.Fatalf("native fields without a native mapping")
		}
	})
}
