package collector

import (
	"bytes"
	"encoding/binary"
	"flag"
	"maps"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ebpf-exporter/ebpf_exporter/config"
	"github.com/ebpf-exporter/ebpf_exporter/loader"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// goldenConfig is a config as the reference writes it: a counter by name,
// and an exp2 histogram by operation with a sum key.
const goldenConfig = `
metrics:
  counters:
    - name: golden_calls_total
      help: Calls by name
      labels:
        - name: name
          size: 16
          decoders:
            - name: string
  histograms:
    - name: golden_size_bytes
      help: Sizes by operation
      bucket_type: exp2
      bucket_min: 0
      bucket_max: 4
      bucket_multiplier: 1
      labels:
        - name: operation
          size: 4
          decoders:
            - name: uint
            - name: static_map
              static_map:
                1: read
                2: write
        - name: bucket
          size: 4
          decoders:
            - name: uint
`

// TestGoldenMetrics compares the whole text exposition of fixed map contents
// with testdata/golden.prom (go test -run Golden -update rewrites it). The
// output must parse with expfmt; series are compared in sorted order and the
// scrape duration, a measured time, is masked.
func TestGoldenMetrics(t *testing.T) {
	cfg, err := config.Parse("golden", "golden.yaml", []byte(goldenConfig))
	if err != nil {
		t.Fatal(err)
	}
	counter := stringMap(t, map[string]uint64{"alpha": 3, "beta": 1 << 33, "": 5})
	hist, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hist.Close() })
	for _, e := range []struct {
		op, bucket uint32
		n          uint64
	}{
		{1, 0, 2}, {1, 2, 5}, {1, 4, 1}, {1, 5, 27}, // read: values up to 1, 4, 16; sum 27
		{2, 3, 4}, {2, 9, 1}, {2, 5, 100}, // write: up to 8, and one above bucket_max
	} {
		key := binary.NativeEndian.AppendUint32(binary.NativeEndian.AppendUint32(nil, e.op), e.bucket)
		if err := hist.Put(key, e.n); err != nil {
			t.Fatal(err)
		}
	}
	l := &loader.Loaded{Config: cfg, Maps: map[string]*ebpf.Map{"golden_calls_total": counter, "golden_size_bytes": hist}}
	_, h := newTestCollector(t, l)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("the output does not parse: %v\n%s", err, rec.Body)
	}
	// Series come in the maps' hash order, which the kernel seeds at
	// random: compare them sorted, in expfmt's rendering of what was parsed.
	var buf bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(fams)) {
		f := fams[name]
		slices.SortFunc(f.Metric, func(a, b *dto.Metric) int { return strings.Compare(labelKey(a), labelKey(b)) })
		if name == "ebpf_exporter_scrape_duration_seconds" {
			for _, m := range f.Metric {
				m.Gauge.Value = new(float64) // a measured time: masked
			}
		}
		if _, err := expfmt.MetricFamilyToText(&buf, f); err != nil {
			t.Fatal(err)
		}
	}
	got := buf.String()

	const golden = "testdata/golden.prom"
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("/metrics differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
	}
}
