// Package collector turns the maps of loaded configs into Prometheus metrics
// at scrape time: it reads each metric's map, decodes keys into label values
// (caching decoded keys between scrapes) and builds counters and histograms.
package collector

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ebpf-exporter/ebpf_exporter/config"
	"github.com/ebpf-exporter/ebpf_exporter/decoder"
	"github.com/ebpf-exporter/ebpf_exporter/histogram"
	"github.com/ebpf-exporter/ebpf_exporter/loader"
	"github.com/ebpf-exporter/ebpf_exporter/mapread"
)

const namespace = "ebpf_exporter"

// Collector exports the metrics of a set of loaded configs.
type Collector struct {
	decoders *decoder.Set
	logger   *slog.Logger
	configs  []*loader.Loaded
	families []*family

	// mu serialises scrapes: map readers and decode caches are reused.
	mu            sync.Mutex
	decoderErrors map[string]float64

	enabledDesc      *prometheus.Desc
	attachedDesc     *prometheus.Desc
	programInfoDesc  *prometheus.Desc
	decoderErrorDesc *prometheus.Desc
}

// family is one exported metric name, fed by one or more configs.
type family struct {
	name      string
	help      string
	histogram bool
	desc      *prometheus.Desc
	sources   []*source
}

// source is one config's map behind a metric.
type source struct {
	loaded  *loader.Loaded
	mapName string
	labels  []config.Label
	layout  *histogram.Layout // histograms only
	reader  *mapread.Reader
	cache   *labelCache
}

// New builds a collector over loaded configs. Two configs may define the same
// metric only with the same labels and help; their series are merged.
func New(configs []*loader.Loaded, decoders *decoder.Set, logger *slog.Logger) (*Collector, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Collector{
		decoders:      decoders,
		logger:        logger,
		configs:       configs,
		decoderErrors: map[string]float64{},
		enabledDesc: prometheus.NewDesc(namespace+"_enabled_configs",
			"The set of enabled configs.", []string{"name"}, nil),
		attachedDesc: prometheus.NewDesc(namespace+"_ebpf_program_attached",
			"Whether a program of a config is attached (1) or failed to load or attach (0).", []string{"config", "program", "id"}, nil),
		programInfoDesc: prometheus.NewDesc(namespace+"_ebpf_program_info",
			"Info about the loaded eBPF programs.", []string{"config", "program", "tag", "id"}, nil),
		decoderErrorDesc: prometheus.NewDesc(namespace+"_decoder_errors_total",
			"Series dropped because a label decoder failed, by config.", []string{"config"}, nil),
	}
	byName := map[string]*family{}
	owner := map[string]string{}
	add := func(l *loader.Loaded, name, help string, labels []config.Label, h *config.Histogram) error {
		labelNames := make([]string, 0, len(labels))
		for _, lb := range labels {
			labelNames = append(labelNames, lb.Name)
		}
		if h != nil {
			labelNames = labelNames[:len(labelNames)-1]
		}
		full := config.MetricPrefix + name
		f, ok := byName[full]
		if ok {
			if f.histogram != (h != nil) || f.help != help || !sameLabels(f.sources[0].labels, labels) {
				return fmt.Errorf("metric %s is defined by configs %s and %s with different type, help or labels", full, owner[full], l.Config.Name)
			}
		} else {
			f = &family{name: full, help: help, histogram: h != nil,
				desc: prometheus.NewDesc(full, help, labelNames, nil)}
			byName[full] = f
			owner[full] = l.Config.Name
			c.families = append(c.families, f)
		}
		s := &source{loaded: l, mapName: name, labels: labels, reader: mapread.NewReader(), cache: newLabelCache()}
		if h != nil {
			layout, err := histogram.NewLayout(*h)
			if err != nil {
				return fmt.Errorf("config %s: histogram %s: %w", l.Config.Name, name, err)
			}
			s.layout = layout
		}
		f.sources = append(f.sources, s)
		return nil
	}
	for _, l := range configs {
		for _, m := range l.Config.Metrics.Counters {
			if m.PerfEventArray {
				continue
			}
			if err := add(l, m.Name, m.Help, m.Labels, nil); err != nil {
				return nil, err
			}
		}
		for i := range l.Config.Metrics.Histograms {
			m := &l.Config.Metrics.Histograms[i]
			if err := add(l, m.Name, m.Help, m.Labels, m); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

func sameLabels(a, b []config.Label) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

// Describe sends the descriptors of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.enabledDesc
	ch <- c.attachedDesc
	ch <- c.programInfoDesc
	ch <- c.decoderErrorDesc
	for _, f := range c.families {
		ch <- f.desc
	}
}

// Collect reads every map and sends the metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.configs {
		ch <- prometheus.MustNewConstMetric(c.enabledDesc, prometheus.GaugeValue, 1, l.Config.Name)
		for _, p := range l.Programs {
			id := ""
			if p.ID != 0 {
				id = strconv.FormatUint(uint64(p.ID), 10)
			}
			attached := 0.0
			if p.Attached() {
				attached = 1
			}
			ch <- prometheus.MustNewConstMetric(c.attachedDesc, prometheus.GaugeValue, attached, l.Config.Name, p.Name, id)
			if p.Program != nil {
				ch <- prometheus.MustNewConstMetric(c.programInfoDesc, prometheus.GaugeValue, 1, l.Config.Name, p.Name, p.Tag, id)
			}
		}
	}
	for _, f := range c.families {
		var err error
		if f.histogram {
			err = c.collectHistogram(ch, f)
		} else {
			err = c.collectCounter(ch, f)
		}
		if err != nil {
			c.logger.Error("reading metric", "metric", f.name, "err", err)
			ch <- prometheus.NewInvalidMetric(f.desc, err)
		}
	}
	for _, l := range c.configs {
		ch <- prometheus.MustNewConstMetric(c.decoderErrorDesc, prometheus.CounterValue, c.decoderErrors[l.Config.Name], l.Config.Name)
	}
}

// live reports whether a program that writes the source's map is attached, or
// whether no program refers to the map at all (a map filled from elsewhere).
func (s *source) live() bool {
	referenced := false
	for _, p := range s.loaded.Programs {
		if p.Maps[s.mapName] {
			referenced = true
			if p.Attached() {
				return true
			}
		}
	}
	return !referenced
}

// decode returns the cached label values of a key, decoding on a miss. ok is
// false when the series is dropped.
func (c *Collector) decode(s *source, key []byte, labels []config.Label) ([]string, bool) {
	if e, hit := s.cache.get(key); hit {
		return e.values, e.ok
	}
	values, err := c.decoders.DecodeLabels(key, labels)
	ok := err == nil
	if err != nil && !errors.Is(err, decoder.ErrSkipLabelSet) {
		c.decoderErrors[s.loaded.Config.Name]++
		c.logger.Debug("decoding labels", "config", s.loaded.Config.Name, "map", s.mapName, "err", err)
	}
	if ok || errors.Is(err, decoder.ErrSkipLabelSet) {
		// Failures are retried on the next scrape: a cgroup or device
		// may appear later.
		s.cache.put(key, values, ok)
	}
	return values, ok
}

func (c *Collector) collectCounter(ch chan<- prometheus.Metric, f *family) error {
	merge := len(f.sources) > 1
	merged := map[string]*mergedCounter{}
	for _, s := range f.sources {
		if !s.live() {
			continue
		}
		m := s.loaded.Maps[s.mapName]
		s.cache.startScrape()
		err := s.reader.Read(m, func(key []byte, value uint64) {
			values, ok := c.decode(s, key, s.labels)
			if !ok {
				return
			}
			if merge {
				k := strings.Join(values, "\xff")
				if mc, ok := merged[k]; ok {
					mc.value += float64(value)
				} else {
					merged[k] = &mergedCounter{values: values, value: float64(value)}
				}
				return
			}
			ch <- prometheus.MustNewConstMetric(f.desc, prometheus.CounterValue, float64(value), values...)
		})
		s.cache.endScrape()
		if err != nil {
			return fmt.Errorf("config %s: map %s: %w", s.loaded.Config.Name, s.mapName, err)
		}
	}
	for _, mc := range merged {
		ch <- prometheus.MustNewConstMetric(f.desc, prometheus.CounterValue, mc.value, mc.values...)
	}
	return nil
}

type mergedCounter struct {
	values []string
	value  float64
}

type histSeries struct {
	values []string
	series *histogram.Series
	layout *histogram.Layout
}

func (c *Collector) collectHistogram(ch chan<- prometheus.Metric, f *family) error {
	series := map[string]*histSeries{}
	var order []string
	for _, s := range f.sources {
		if !s.live() {
			continue
		}
		m := s.loaded.Maps[s.mapName]
		bucket := s.labels[len(s.labels)-1]
		prefixLabels := s.labels[:len(s.labels)-1]
		prefixSize := int(config.KeySize(prefixLabels))
		s.cache.startScrape()
		var readErr error
		err := s.reader.Read(m, func(key []byte, value uint64) {
			if len(key) < prefixSize+int(bucket.Size) {
				readErr = fmt.Errorf("key of %d bytes is shorter than its labels", len(key))
				return
			}
			values, ok := c.decode(s, key[:prefixSize], prefixLabels)
			if !ok {
				return
			}
			bk, err := histogram.KeyValue(key[prefixSize : prefixSize+int(bucket.Size)])
			if err != nil {
				readErr = err
				return
			}
			hs, ok := series[string(key[:prefixSize])]
			if !ok {
				if len(f.sources) > 1 {
					// Several configs: merge by decoded labels.
					k := "\x00" + strings.Join(values, "\xff")
					if hs, ok = series[k]; !ok {
						hs = &histSeries{values: values, series: s.layout.NewSeries(), layout: s.layout}
						series[k] = hs
						order = append(order, k)
					}
				} else {
					hs = &histSeries{values: values, series: s.layout.NewSeries(), layout: s.layout}
					series[string(key[:prefixSize])] = hs
					order = append(order, string(key[:prefixSize]))
				}
			}
			hs.layout.Add(hs.series, bk, value)
		})
		s.cache.endScrape()
		if err == nil {
			err = readErr
		}
		if err != nil {
			return fmt.Errorf("config %s: map %s: %w", s.loaded.Config.Name, s.mapName, err)
		}
	}
	sort.Strings(order)
	for _, k := range order {
		hs := series[k]
		m, err := hs.layout.Metric(f.desc, hs.series, hs.values)
		if err != nil {
			return err
		}
		ch <- m
	}
	return nil
}

// ServeMaps writes the raw contents of every metric map (--debug).
func (c *Collector) ServeMaps(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, f := range c.families {
		for _, s := range f.sources {
			fmt.Fprintf(w, "# config %s map %s\n", s.loaded.Config.Name, s.mapName)
			err := s.reader.Read(s.loaded.Maps[s.mapName], func(key []byte, value uint64) {
				fmt.Fprintf(w, "%x %d\n", key, value)
			})
			if err != nil {
				fmt.Fprintf(w, "# error: %v\n", err)
			}
		}
	}
}
