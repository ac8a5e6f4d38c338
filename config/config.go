// Package config reads exporter configurations in the format of Cloudflare's
// ebpf_exporter: one NAME.yaml describing metrics beside one NAME.bpf.o holding
// the programs and maps that produce them.
//
// Parsing is strict: an unknown field is an error naming the file, the line and
// the field, where the reference exporter silently ignores it.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"
)

// MetricPrefix is prepended to every metric name declared in a config.
const MetricPrefix = "ebpf_exporter_"

// Config is one exporter configuration: the metrics read from one BPF object.
type Config struct {
	// Name is the config's name: the file name without ".yaml".
	Name string `yaml:"-"`
	// Path is the YAML file the config was read from ("builtin:NAME" for embedded ones).
	Path string `yaml:"-"`

	Metrics     Metrics      `yaml:"metrics"`
	Kaddrs      []string     `yaml:"kaddrs"`
	CgroupIDMap *CgroupIDMap `yaml:"cgroup_id_map"`
	// ProgramAlternatives lists groups of programs that do the same job
	// through different hooks, best first (say fentry, then tp_btf, then a
	// tracepoint): the first of a group that loads and attaches runs, the
	// rest are not loaded. An extension of ours; the reference has none.
	ProgramAlternatives [][]string `yaml:"program_alternatives"`
	// loc finds the line of a field in the file the config was parsed from.
	loc locator

	// Tracing is the reference exporter's OpenTelemetry span export, accepted
	// for compatibility and reported as unsupported by the loader.
	Tracing yaml.Node `yaml:"tracing"`
}

// Metrics lists the counters and histograms a config exports.
type Metrics struct {
	Counters   []Counter   `yaml:"counters"`
	Histograms []Histogram `yaml:"histograms"`
}

// Counter is a Prometheus counter read from the BPF map with the same name.
// The map's key holds the labels; its value is a u64 (summed across CPUs for
// per-CPU maps).
type Counter struct {
	Name           string        `yaml:"name"`
	Help           string        `yaml:"help"`
	PerfEventArray bool          `yaml:"perf_event_array"`
	FlushInterval  time.Duration `yaml:"flush_interval"`
	Labels         []Label       `yaml:"labels"`
	// Values, as in the reference, split each entry's value into several
	// counters: the map's value is one u64 per element, each exported under
	// its own name and help. The counter's name then only names the map.
	Values []CounterValue `yaml:"values"`
	// Source, when it names a probe, makes the counter declarative: its
	// program is generated at load time (package declarative).
	Source `yaml:",inline"`
}

// CounterValue is one element of a counter's map value, exported as its own
// metric.
type CounterValue struct {
	Name string `yaml:"name"`
	Help string `yaml:"help"`
}

// BucketType says how histogram bucket keys map to upper bounds.
type BucketType string

// Bucket types of the reference exporter.
const (
	// BucketExp2 keys are log2 of the value: key k counts values up to 2^k.
	BucketExp2 BucketType = "exp2"
	// BucketExp2Zero is exp2 with key 0 reserved for the value zero: key k counts values up to 2^(k-1).
	BucketExp2Zero BucketType = "exp2zero"
	// BucketLinear keys are the value itself: key k counts values up to k.
	BucketLinear BucketType = "linear"
	// BucketFixed keys are listed in bucket_keys.
	BucketFixed BucketType = "fixed"
)

// Histogram is a Prometheus histogram read from the BPF map with the same
// name. The last label of the map key is the bucket key.
type Histogram struct {
	Name             string     `yaml:"name"`
	Help             string     `yaml:"help"`
	BucketType       BucketType `yaml:"bucket_type"`
	BucketMultiplier float64    `yaml:"bucket_multiplier"`
	BucketMin        int        `yaml:"bucket_min"`
	BucketMax        int        `yaml:"bucket_max"`
	BucketKeys       []float64  `yaml:"bucket_keys"`
	Labels           []Label    `yaml:"labels"`
	// Source, when it names a probe, makes the histogram declarative: its
	// program is generated at load time (package declarative), and its
	// bucket label is implicit.
	Source `yaml:",inline"`
}

// Source says where a declarative metric's data comes from: the program the
// exporter generates for it instead of reading a .bpf.o. A metric is
// declarative when Probe, Start or End is set; the language of Filter, Value
// and the labels' Value is described in package declarative.
type Source struct {
	// Probe is the event that updates the metric, like
	// "tracepoint/syscalls/sys_enter_getpid".
	Probe string `yaml:"probe"`
	// Filter is a condition the event must meet, like `comm == "bash"`.
	Filter string `yaml:"filter"`
	// Value is the observed value of a histogram, or the amount a counter
	// adds (1 when empty).
	Value string `yaml:"value"`
	// Start and End measure the time between two events matched by a key;
	// the elapsed nanoseconds are the value "elapsed". They replace Probe.
	Start *Endpoint `yaml:"start"`
	End   *Endpoint `yaml:"end"`
	// MaxEntries bounds the metric's map (and the start map); 0 means 10240.
	MaxEntries int `yaml:"max_entries"`
}

// Declarative reports whether the metric's program is generated from s.
func (s *Source) Declarative() bool { return s.Probe != "" || s.Start != nil || s.End != nil }

// Endpoint is one side of a start/end latency measurement.
type Endpoint struct {
	Probe string `yaml:"probe"`
	// Key is a comma-separated list of expressions matching an end event to
	// its start event, like "tid" or "dev, sector".
	Key    string `yaml:"key"`
	Filter string `yaml:"filter"`
}

// Label is one part of a map key, turned into a label value by its decoders.
type Label struct {
	Name     string    `yaml:"name"`
	Size     uint      `yaml:"size"`
	Padding  uint      `yaml:"padding"`
	Decoders []Decoder `yaml:"decoders"`
	// Value is the expression a declarative metric's label is computed from,
	// like "tgid" or "comm"; only for declarative metrics.
	Value string `yaml:"value"`
}

// Decoder is one step turning a label's raw bytes into its value.
type Decoder struct {
	Name         string            `yaml:"name"`
	StaticMap    map[string]string `yaml:"static_map"`
	Regexps      []string          `yaml:"regexps"`
	AllowUnknown bool              `yaml:"allow_unknown"`
	// Enum names the kernel BTF enum type for the btf_enum decoder.
	Enum string `yaml:"enum"`
}

// CgroupIDMap is the reference exporter's cgroup filter map, filled with the
// cgroups whose paths match the regexps.
type CgroupIDMap struct {
	Name string `yaml:"name"`
	// Type is CgroupIDMapHash (the default) or CgroupIDMapCgrpStorage.
	Type      string   `yaml:"type"`
	Regexps   []string `yaml:"regexps"`
	CacheSize int      `yaml:"cache_size"`
}

// The kinds of cgroup_id_map, as the reference names them.
const (
	// CgroupIDMapHash is a hash keyed by u64 cgroup id, holding 1 for every
	// matching cgroup.
	CgroupIDMapHash = "hash"
	// CgroupIDMapCgrpStorage is a BPF_MAP_TYPE_CGRP_STORAGE map: each
	// matching cgroup's storage holds 1 (programs read it with
	// bpf_cgrp_storage_get).
	CgroupIDMapCgrpStorage = "cgrp_storage"
)

// Error is a problem in a config file, naming the file and, where known, the
// line and field.
type Error struct {
	Path  string
	Line  int
	Field string
	Err   error
}

func (e *Error) Error() string {
	loc := e.Path
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.Path, e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %v", loc, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %v", loc, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ReadFile parses and validates the config at path, naming it after the file.
func ReadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	name := filepath.Base(path)
	name = name[:len(name)-len(filepath.Ext(name))]
	return Parse(name, path, data)
}

// Parse parses and validates config data. path is used in error messages.
func Parse(name, path string, data []byte) (*Config, error) {
	cfg := &Config{Name: name, Path: path}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Path: path, Err: errors.New("empty config")}
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			// yaml.v3 reports every problem as "line N: message".
			return nil, &Error{Path: path, Err: fmt.Errorf("%s", joinLines(te.Errors))}
		}
		return nil, &Error{Path: path, Err: err}
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	cfg.loc = newLocator(&root)
	if err := cfg.validate(cfg.loc); err != nil {
		if ce, ok := err.(*Error); ok {
			ce.Path = path
		}
		return nil, err
	}
	return cfg, nil
}

// ErrorAt returns an error about the field at path (like
// "metrics.counters.0.filter"), naming the config's file and the field's
// line, for checks made after parsing.
func (c *Config) ErrorAt(path string, err error) *Error {
	return &Error{Path: c.Path, Line: c.loc.line(path), Field: path, Err: err}
}

func joinLines(lines []string) string {
	var b bytes.Buffer
	for i, l := range lines {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(l)
	}
	return b.String()
}
