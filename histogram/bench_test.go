package histogram

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

const (
	benchSeries  = 10000
	benchBuckets = 27
)

// BenchmarkAssemble builds 10k series of a 27-bucket exp2 histogram (plus the
// sum key) per op: "add" only accumulates counts, "metric" also builds the
// const histograms, "write" also encodes them as a Gather would, "histogram"
// builds the classic and native exposition in place (the collector's path).
func BenchmarkAssemble(b *testing.B) {
	l, err := NewLayout(config.Histogram{Name: "lat", BucketType: config.BucketExp2, BucketMax: benchBuckets - 1, BucketMultiplier: 0.000001})
	if err != nil {
		b.Fatal(err)
	}
	labels := make([][]string, benchSeries)
	for i := range labels {
		labels[i] = []string{fmt.Sprintf("dev%d", i)}
	}
	series := make([]*Series, benchSeries)
	for i := range series {
		series[i] = l.NewSeries()
	}
	add := func() {
		for i, s := range series {
			s.Reset()
			for k := range uint64(benchBuckets + 1) {
				l.Add(s, k, uint64(i)+k)
			}
		}
	}
	b.Run("add", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			add()
		}
	})
	metrics := make([]prometheus.Metric, benchSeries)
	b.Run("metric", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			add()
			for i, s := range series {
				m, err := l.Metric(desc, s, labels[i])
				if err != nil {
					b.Fatal(err)
				}
				metrics[i] = m
			}
		}
	})
	b.Run("histogram", func(b *testing.B) {
		// The collector's path: the exposition in place, reused.
		b.ReportAllocs()
		for b.Loop() {
			add()
			for _, s := range series {
				if _, err := l.Histogram(s); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			add()
			for i, s := range series {
				m, err := l.Metric(desc, s, labels[i])
				if err != nil {
					b.Fatal(err)
				}
				var pb dto.Metric
				if err := m.Write(&pb); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
