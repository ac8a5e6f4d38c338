package collector

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ebpf-exporter/ebpf_exporter/config"
	"github.com/ebpf-exporter/ebpf_exporter/decoder"
	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
	"github.com/ebpf-exporter/ebpf_exporter/loader"
)

var benchSizes = []int{1_000, 10_000, 100_000, 1_000_000}

// filledMap returns a u64→u64 hash map holding n entries.
func filledMap(tb testing.TB, n int) *ebpf.Map {
	tb.Helper()
	testenv.RequirePrivileged(tb)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "bench_total", Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: uint32(n)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	keys := make([]uint64, n)
	values := make([]uint64, n)
	for i := range keys {
		keys[i] = uint64(i) * 7919
		values[i] = uint64(i)
	}
	if _, err := m.BatchUpdate(keys, values, nil); err != nil {
		tb.Fatal(err)
	}
	return m
}

// benchCollector exports m as a counter labelled by the key (uint decoder).
func benchCollector(tb testing.TB, m *ebpf.Map) *Handler {
	tb.Helper()
	cfg := &config.Config{Name: "bench", Metrics: config.Metrics{Counters: []config.Counter{{
		Name: "bench_total", Help: "benchmark counter",
		Labels: []config.Label{{Name: "key", Size: 8, Decoders: []config.Decoder{{Name: "uint"}}}},
	}}}}
	set, err := decoder.NewSet(decoder.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	c := New(Options{Decoders: set})
	if err := c.SetConfigs([]*loader.Loaded{{Config: cfg, Maps: map[string]*ebpf.Map{"bench_total": m}}}); err != nil {
		tb.Fatal(err)
	}
	return NewHandler(c, prometheus.NewRegistry(), promhttp.HandlerOpts{})
}

// countingWriter is a ResponseWriter that only counts bytes.
type countingWriter struct {
	h http.Header
	n int
}

func (w *countingWriter) Header() http.Header         { return w.h }
func (w *countingWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }
func (w *countingWriter) WriteHeader(int)             {}

// BenchmarkScrape is a whole scrape of an n-series counter: batch read,
// cached decode, text exposition (uncompressed).
func BenchmarkScrape(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			h := benchCollector(b, filledMap(b, n))
			req := httptest.NewRequest("GET", "/metrics", nil)
			w := &countingWriter{h: http.Header{}}
			h.ServeHTTP(w, req) // fill the decode cache
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w.n = 0
				h.ServeHTTP(w, req)
			}
			b.ReportMetric(float64(w.n)/float64(n), "bytes/series")
		})
	}
}

// BenchmarkBatchReadFloor is the bare BPF_MAP_LOOKUP_BATCH read of the same
// map into preallocated slices: the floor a scrape is compared against.
func BenchmarkBatchReadFloor(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			m := filledMap(b, n)
			keys := make([]uint64, 4096)
			values := make([]uint64, 4096)
			b.ResetTimer()
			for range b.N {
				var cursor ebpf.MapBatchCursor
				total := 0
				for {
					got, err := m.BatchLookup(&cursor, keys, values, nil)
					total += got
					if err != nil {
						break
					}
				}
				if total != n {
					b.Fatalf("read %d entries, want %d", total, n)
				}
			}
		})
	}
}
