package config

import (
	"strings"
	"testing"
)

// A config as the reference exporter's examples write it (biolatency.yaml).
const referenceBiolatency = `
metrics:
  histograms:
    - name: bio_latency_seconds
      help: Block IO latency histogram
      bucket_type: exp2
      bucket_min: 0
      bucket_max: 26
      bucket_multiplier: 0.000001 # microseconds to seconds
      labels:
        - name: device
          size: 32
          decoders:
            - name: string
        - name: operation
          size: 8
          decoders:
            - name: uint
            - name: static_map
              static_map:
                1: read
                2: write
        - name: bucket
          size: 8
          decoders:
            - name: uint
  counters:
    - name: timer_starts_total
      help: Timers fired in the kernel
      labels:
        - name: function
          size: 8
          padding: 0
          decoders:
            - name: ksym
kaddrs:
  - jiffies
`

func TestParseReferenceConfig(t *testing.T) {
	cfg, err := Parse("biolatency", "biolatency.yaml", []byte(referenceBiolatency))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Metrics.Histograms) != 1 || len(cfg.Metrics.Counters) != 1 {
		t.Fatalf("got %d histograms, %d counters", len(cfg.Metrics.Histograms), len(cfg.Metrics.Counters))
	}
	h := cfg.Metrics.Histograms[0]
	if h.BucketType != BucketExp2 || h.BucketMin != 0 || h.BucketMax != 26 || h.BucketMultiplier != 0.000001 {
		t.Errorf("histogram fields: %+v", h)
	}
	if got := h.Labels[1].Decoders[1].StaticMap["2"]; got != "write" {
		t.Errorf("static_map[2] = %q, want write", got)
	}
	if KeySize(h.Labels) != 48 {
		t.Errorf("key size %d, want 48", KeySize(h.Labels))
	}
	if cfg.Kaddrs[0] != "jiffies" || cfg.Name != "biolatency" {
		t.Errorf("kaddrs %v name %q", cfg.Kaddrs, cfg.Name)
	}
}

func TestMultiplierDefaultsToOne(t *testing.T) {
	cfg, err := Parse("x", "x.yaml", []byte(`
metrics:
  histograms:
    - name: h
      help: h
      bucket_type: linear
      bucket_max: 3
      labels:
        - {name: bucket, size: 8, decoders: [{name: uint}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if m := cfg.Metrics.Histograms[0].BucketMultiplier; m != 1 {
		t.Errorf("multiplier %v, want 1", m)
	}
}

func TestParseErrors(t *testing.T) {
	const counter = `
metrics:
  counters:
    - name: c_total
      help: c
      labels:
        - name: a
          size: 8
          decoders:
            - name: uint
`
	cases := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"empty", ``, []string{"bad.yaml", "empty config"}},
		{"no metrics", "metrics: {}\n", []string{"bad.yaml:1", "no counters"}},
		{"unknown top field", "metric:\n  counters: []\n", []string{"bad.yaml", "line 1", "field metric not found"}},
		{"unknown label field", strings.Replace(counter, "size: 8", "sise: 8", 1), []string{"line 8", "field sise not found"}},
		{"missing help", strings.Replace(counter, "help: c", "help: ''", 1), []string{"bad.yaml:5", "metrics.counters.0.help", "no help"}},
		{"bad metric name", strings.Replace(counter, "c_total", "c-total", 1), []string{"bad.yaml:4", "invalid metric name"}},
		{"zero size", strings.Replace(counter, "size: 8", "size: 0", 1), []string{"bad.yaml:8", "needs a size"}},
		{"unknown decoder", strings.Replace(counter, "name: uint", "name: uintt", 1), []string{"bad.yaml:10", "unknown decoder \"uintt\""}},
		{"no decoders", strings.Replace(counter, "          decoders:\n            - name: uint\n", "", 1), []string{"labels.0.decoders", "no decoders"}},
		{"static_map without map", strings.Replace(counter, "name: uint", "name: static_map", 1), []string{"static_map decoder needs"}},
		{"regexp bad", strings.Replace(counter, "name: uint", "name: regexp\n              regexps: ['(']", 1), []string{"bad.yaml:11", "invalid regexp"}},
		{"cgroup_id_map type", counter + "cgroup_id_map:\n  name: m\n  type: lru\n", []string{"bad.yaml:13", "cgroup_id_map.type", `unknown type "lru"`}},
		{"value without help", strings.Replace(counter, "            - name: uint\n", "            - name: uint\n      values:\n        - name: v_total\n", 1), []string{"bad.yaml:12", "metrics.counters.0.values.0.help", "no help"}},
		{"value name taken", strings.Replace(counter, "            - name: uint\n", "            - name: uint\n      values:\n        - name: c_total\n          help: x\n", 1), []string{"bad.yaml:12", "values.0.name", "already defined"}},
		{"value name bad", strings.Replace(counter, "            - name: uint\n", "            - name: uint\n      values:\n        - name: v-total\n          help: x\n", 1), []string{"invalid metric name \"v-total\""}},
		{"values with perf_event_array", strings.Replace(counter, "            - name: uint\n", "            - name: uint\n      perf_event_array: true\n      values:\n        - name: v_total\n          help: x\n", 1), []string{"values are for counters read from a map"}},
		{"btf_enum without enum", strings.Replace(counter, "name: uint", "name: btf_enum", 1), []string{"needs enum"}},
		{"static_map on uint", strings.Replace(counter, "name: uint", "name: uint\n              static_map: {1: a}", 1), []string{"only for the static_map decoder"}},
		{"wrong type", strings.Replace(counter, "size: 8", "size: big", 1), []string{"line 8", "cannot unmarshal"}},
		{"duplicate metric", strings.Replace(counter, "  counters:\n", "  counters:\n    - name: c_total\n      help: x\n", 1), []string{"already defined"}},
		{"bad bucket type", `
metrics:
  histograms:
    - name: h
      help: h
      bucket_type: exp3
      labels: [{name: bucket, size: 8, decoders: [{name: uint}]}]
`, []string{"bad.yaml:6", "unknown bucket_type \"exp3\""}},
		{"max below min", `
metrics:
  histograms:
    - name: h
      help: h
      bucket_type: exp2
      bucket_min: 5
      bucket_max: 2
      labels: [{name: bucket, size: 8, decoders: [{name: uint}]}]
`, []string{"bad.yaml:8", "below bucket_min"}},
		{"fixed unsorted", `
metrics:
  histograms:
    - name: h
      help: h
      bucket_type: fixed
      bucket_keys: [1, 5, 3]
      labels: [{name: bucket, size: 8, decoders: [{name: uint}]}]
`, []string{"bucket_keys.2", "strictly increasing"}},
		{"histogram without labels", `
metrics:
  histograms:
    - name: h
      help: h
      bucket_type: exp2
`, []string{"needs at least the bucket label"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad", "bad.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(referenceBiolatency))
	f.Add([]byte("metrics:\n  counters:\n    - {name: a, help: b, labels: [{name: x, size: 4, decoders: [{name: uint}]}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz", "fuzz.yaml", data)
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
	})
}

func TestProgramAlternativesValidation(t *testing.T) {
	base := "metrics:\n  counters:\n    - {name: a_total, help: b, labels: [{name: x, size: 4, decoders: [{name: uint}]}]}\n"
	cfg, err := Parse("x", "x.yaml", []byte(base+"program_alternatives:\n  - [fast, slow]\n"))
	if err != nil || len(cfg.ProgramAlternatives) != 1 || cfg.ProgramAlternatives[0][1] != "slow" {
		t.Fatalf("valid alternatives: %v %v", cfg, err)
	}
	for yaml, want := range map[string]string{
		"program_alternatives:\n  - [alone]\n":            "at least two programs",
		"program_alternatives:\n  - [a, b]\n  - [b, c]\n": "more than one group",
	} {
		if _, err := Parse("x", "x.yaml", []byte(base+yaml)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", yaml, err, want)
		}
	}
}
