package loader

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

func TestCheckMetricMapsValues(t *testing.T) {
	cfg := &config.Config{Metrics: config.Metrics{Counters: []config.Counter{{
		Name:   "writes",
		Labels: []config.Label{{Name: "pid", Size: 4}},
		Values: []config.CounterValue{{Name: "calls_total", Help: "c"}, {Name: "bytes_total", Help: "b"}},
	}}}}
	spec := func(valueSize uint32) *ebpf.CollectionSpec {
		return &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{
			"writes": {Name: "writes", Type: ebpf.Hash, KeySize: 4, ValueSize: valueSize, MaxEntries: 1},
		}}
	}
	if err := CheckMetricMaps(cfg, spec(16)); err != nil {
		t.Errorf("two u64 values in 16 bytes: %v", err)
	}
	err := CheckMetricMaps(cfg, spec(8))
	if err == nil || !strings.Contains(err.Error(), "metric writes: map value size is 8 bytes; its 2 values want 16") {
		t.Errorf("8-byte value for 2 values: %v", err)
	}
}
