// Package collector turns the maps of loaded configs into Prometheus metric
// families at scrape time. It reads each metric's map in batches, decodes keys
// into label values once (caching the decoded series, with their exposition
// objects, by raw key bytes between scrapes) and fills counters and
// histograms in place, so a steady-state scrape allocates little.
package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	dto "github.com/prometheus/client_model/go"

	"github.com/ebpf-exporter/ebpf_exporter/config"
	"github.com/ebpf-exporter/ebpf_exporter/decoder"
	"github.com/ebpf-exporter/ebpf_exporter/eventsink"
	"github.com/ebpf-exporter/ebpf_exporter/histogram"
	"github.com/ebpf-exporter/ebpf_exporter/loader"
	"github.com/ebpf-exporter/ebpf_exporter/mapread"
)

const namespace = "ebpf_exporter"

// Options tune a Collector.
type Options struct {
	Decoders *decoder.Set
	Logger   *slog.Logger
	// MaxSeries is the most series one metric exports per scrape; the rest
	// are dropped and counted in ebpf_exporter_series_dropped_total.
	// 0 means no limit.
	MaxSeries int
	// NoNativeHistograms exposes exp2 and exp2zero histograms with classic
	// buckets only, without their native (schema 0) form.
	NoNativeHistograms bool
}

// Collector exports the metrics of a set of loaded configs. Map metrics are
// gathered by Gather; self metrics by the prometheus.Collector from Status.
type Collector struct {
	opts Options

	// mu guards everything below; a gather holds it for its whole run.
	mu       sync.Mutex
	sinks    map[sinkKey]*eventsink.Sink // perf_event_array counters
	counter  *mapread.Reader             // counts the entries of maps that are not metrics
	configs  []*loader.Loaded
	families []*family
	stats    stats
}

// stats are the collector's own counters; they survive config reloads.
type stats struct {
	decoderErrors map[string]float64    // by config
	droppedSeries map[[2]string]float64 // by config, metric
	mapEntries    map[[2]string]int     // by config, map: entries at the last read
	duration      map[string]float64    // by config: seconds spent reading and decoding in the last gather
	lastErrors    map[string]error      // by metric
	gathers       float64               // reads of all metric maps
}

// Close stops the readers of perf_event_array counters.
func (c *Collector) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for key, s := range c.sinks {
		errs = append(errs, s.Close())
		delete(c.sinks, key)
	}
	return errors.Join(errs...)
}

// sinkKey names a perf_event_array counter of a loaded config.
type sinkKey struct {
	loaded *loader.Loaded
	name   string
}

// family is one exported metric name, fed by one or more configs.
type family struct {
	name      string
	help      string
	histogram bool
	sources   []*source
	out       *dto.MetricFamily
	counters  []*seriesEntry
}

// source is one config's map behind a metric.
type source struct {
	loaded     *loader.Loaded
	mapName    string
	labels     []config.Label
	labelNames []*string
	layout     *histogram.Layout // histograms only
	reader     *mapread.Reader
	cache      *seriesCache
	// column is which of the map value's values counts, for a counter with
	// values (columns > 0).
	column, columns int
}

// New returns an empty collector; SetConfigs gives it configs.
func New(opts Options) *Collector {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Collector{opts: opts, counter: mapread.NewReader(), sinks: map[sinkKey]*eventsink.Sink{}, stats: stats{
		decoderErrors: map[string]float64{},
		droppedSeries: map[[2]string]float64{},
		mapEntries:    map[[2]string]int{},
		duration:      map[string]float64{},
		lastErrors:    map[string]error{},
	}}
}

// SetConfigs replaces the configs the collector exports. Sources of configs
// that stay (the same *loader.Loaded) keep their caches. Two configs may
// define the same metric only with the same type, labels and help; their
// series are merged. On error the previous configs stay.
func (c *Collector) SetConfigs(configs []*loader.Loaded) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := map[[2]any]*source{}
	for _, f := range c.families {
		for _, s := range f.sources {
			old[[2]any{s.loaded, f.name}] = s
		}
	}
	byName := map[string]*family{}
	owner := map[string]string{}
	var families []*family
	// add exports a metric of config l read from map mapName; a counter with
	// values is one metric per column of the map's value.
	add := func(l *loader.Loaded, name, mapName, help string, labels []config.Label, h *config.Histogram, column, columns int) error {
		full := config.MetricPrefix + name
		f, ok := byName[full]
		if ok {
			if f.histogram != (h != nil) || f.help != help || !sameLabels(f.sources[0].labels, labels) {
				return fmt.Errorf("metric %s is defined by configs %s and %s with different type, help or labels", full, owner[full], l.Config.Name)
			}
		} else {
			typ := dto.MetricType_COUNTER
			if h != nil {
				typ = dto.MetricType_HISTOGRAM
			}
			f = &family{name: full, help: help, histogram: h != nil,
				out: &dto.MetricFamily{Name: &full, Help: &help, Type: &typ}}
			byName[full] = f
			owner[full] = l.Config.Name
			families = append(families, f)
		}
		if s, ok := old[[2]any{l, full}]; ok {
			f.sources = append(f.sources, s)
			return nil
		}
		s := &source{loaded: l, mapName: mapName, labels: labels, reader: mapread.NewReader(), cache: newSeriesCache(), column: column, columns: columns}
		n := len(labels)
		if h != nil {
			n--
			layout, err := histogram.NewLayoutOptions(*h, histogram.Options{Native: !c.opts.NoNativeHistograms})
			if err != nil {
				return fmt.Errorf("config %s: histogram %s: %w", l.Config.Name, name, err)
			}
			s.layout = layout
		}
		for i := 0; i < n; i++ {
			s.labelNames = append(s.labelNames, &labels[i].Name)
		}
		f.sources = append(f.sources, s)
		return nil
	}
	sinks := map[sinkKey]*eventsink.Sink{}
	var started []*eventsink.Sink
	fail := func(err error) error {
		for _, s := range started {
			_ = s.Close()
		}
		return err
	}
	for _, l := range configs {
		for _, m := range l.Config.Metrics.Counters {
			if m.PerfEventArray {
				key := sinkKey{l, m.Name}
				if s, ok := c.sinks[key]; ok {
					sinks[key] = s
					continue
				}
				s, err := eventsink.Start(l.Config.Name, m, l.Maps[m.Name], c.opts.Decoders, c.opts.Logger)
				if err != nil {
					return fail(fmt.Errorf("config %s: %w", l.Config.Name, err))
				}
				started = append(started, s)
				sinks[key] = s
				continue
			}
			for j, v := range m.Values {
				if err := add(l, v.Name, m.Name, v.Help, m.Labels, nil, j, len(m.Values)); err != nil {
					return fail(err)
				}
			}
			if len(m.Values) > 0 {
				continue
			}
			if err := add(l, m.Name, m.Name, m.Help, m.Labels, nil, 0, 0); err != nil {
				return fail(err)
			}
		}
		for i := range l.Config.Metrics.Histograms {
			m := &l.Config.Metrics.Histograms[i]
			if err := add(l, m.Name, m.Name, m.Help, m.Labels, m, 0, 0); err != nil {
				return fail(err)
			}
		}
	}
	for key, s := range c.sinks {
		if sinks[key] == nil {
			_ = s.Close()
		}
	}
	c.configs = configs
	c.families = families
	c.sinks = sinks
	return nil
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

// Family is one gathered metric family. Counters of a single config also
// carry their series for the fast text exposition.
type Family struct {
	*dto.MetricFamily
	counters []*seriesEntry
}

// Gather reads every metric map and returns the metric families. The
// returned families, and the objects they point to, are reused by the next
// Gather: callers must be done with them before calling it again (Handler
// takes care of that). It stops early with ctx's error when ctx is done.
func (c *Collector) Gather(ctx context.Context) ([]Family, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.gathers++
	for k := range c.stats.duration {
		c.stats.duration[k] = 0
	}
	for _, l := range c.configs {
		c.runIterators(l)
	}
	out := make([]Family, 0, len(c.families))
	for _, f := range c.families {
		f.out.Metric = f.out.Metric[:0]
		f.counters = f.counters[:0]
		var err error
		if len(f.sources) > 1 {
			err = c.gatherMerged(ctx, f)
		} else {
			err = c.gatherSource(ctx, f, f.sources[0], func(e *seriesEntry) {
				f.out.Metric = append(f.out.Metric, e.metric)
				if !f.histogram {
					f.counters = append(f.counters, e)
				}
			})
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			c.opts.Logger.Error("reading metric", "metric", f.name, "err", err)
			c.stats.lastErrors[f.name] = err
			continue
		}
		delete(c.stats.lastErrors, f.name)
		if len(f.out.Metric) > 0 {
			fam := Family{MetricFamily: f.out}
			if len(f.sources) == 1 {
				fam.counters = f.counters
			}
			out = append(out, fam)
		}
	}
	for _, s := range c.sinks {
		for _, f := range s.Families() {
			out = append(out, Family{MetricFamily: f})
		}
	}
	c.countOtherMaps(ctx)
	return out, nil
}

// countOtherMaps records how full the hash maps that are not metrics are
// (start-time maps and the like): when one fills, programs drop events.
func (c *Collector) countOtherMaps(ctx context.Context) {
	metricMaps := map[[2]string]bool{}
	for _, f := range c.families {
		for _, s := range f.sources {
			metricMaps[[2]string{s.loaded.Config.Name, s.mapName}] = true
		}
	}
	for _, l := range c.configs {
		for name, m := range l.Maps {
			key := [2]string{l.Config.Name, name}
			if metricMaps[key] || ctx.Err() != nil {
				continue
			}
			switch m.Type() {
			case ebpf.Hash, ebpf.LRUHash, ebpf.PerCPUHash, ebpf.LRUCPUHash:
			default:
				continue
			}
			n, err := c.counter.Count(m)
			if err != nil {
				c.opts.Logger.Debug("counting map entries", "config", l.Config.Name, "map", name, "err", err)
				continue
			}
			c.stats.mapEntries[key] = n
		}
	}
}

// runIterators runs a config's iter/ programs, which fill maps when read,
// so the maps are current for this scrape.
func (c *Collector) runIterators(l *loader.Loaded) {
	for _, p := range l.Programs {
		if p.Attachment == nil || p.Attachment.Iter == nil {
			continue
		}
		if err := drainIter(p.Attachment.Iter); err != nil {
			c.opts.Logger.Error("running iterator", "config", l.Config.Name, "program", p.Name, "err", err)
		}
	}
}

func drainIter(it *link.Iter) error {
	rd, err := it.Open()
	if err != nil {
		return err
	}
	defer rd.Close()
	_, err = io.Copy(io.Discard, rd)
	return err
}

// gatherSource reads one source and passes each series to emit.
func (c *Collector) gatherSource(ctx context.Context, f *family, s *source, emit func(*seriesEntry)) error {
	if !s.live() {
		return nil
	}
	start := time.Now()
	defer func() { c.stats.duration[s.loaded.Config.Name] += time.Since(start).Seconds() }()
	m := s.loaded.Maps[s.mapName]
	cache := s.cache
	cache.startScrape()
	limit := c.opts.MaxSeries
	emitted, dropped, entries := 0, 0, 0
	keep := func(e *seriesEntry) bool {
		if limit > 0 && emitted >= limit {
			dropped++
			return false
		}
		emitted++
		return true
	}
	var err error
	if f.histogram {
		err = c.readHistogram(ctx, s, keep, emit, &entries)
	} else {
		count := func(key []byte, value uint64) {
			entries++
			e := c.lookup(s, key, s.labels)
			if e == nil || e.seen || !keep(e) {
				return
			}
			e.seen = true
			e.raw = value
			e.value = float64(value)
			emit(e)
		}
		if s.columns > 0 {
			err = s.reader.ReadValues(ctx, m, s.columns, func(key []byte, values []uint64) { count(key, values[s.column]) })
		} else {
			err = s.reader.ReadContext(ctx, m, count)
		}
	}
	cache.endScrape()
	c.stats.mapEntries[[2]string{s.loaded.Config.Name, s.mapName}] = entries
	if dropped > 0 {
		c.stats.droppedSeries[[2]string{s.loaded.Config.Name, f.name}] += float64(dropped)
	}
	if err != nil {
		return fmt.Errorf("config %s: map %s: %w", s.loaded.Config.Name, s.mapName, err)
	}
	return nil
}

func (c *Collector) readHistogram(ctx context.Context, s *source, keep func(*seriesEntry) bool, emit func(*seriesEntry), entries *int) error {
	bucket := s.labels[len(s.labels)-1]
	prefixLabels := s.labels[:len(s.labels)-1]
	prefixSize := int(config.KeySize(prefixLabels))
	var touched []*seriesEntry
	var readErr error
	err := s.reader.ReadContext(ctx, s.loaded.Maps[s.mapName], func(key []byte, value uint64) {
		*entries++
		if len(key) < prefixSize+int(bucket.Size) {
			readErr = fmt.Errorf("key of %d bytes is shorter than its labels", len(key))
			return
		}
		e := c.lookup(s, key[:prefixSize], prefixLabels)
		if e == nil {
			return
		}
		bk, err := histogram.KeyValue(key[prefixSize : prefixSize+int(bucket.Size)])
		if err != nil {
			readErr = err
			return
		}
		if !e.seen {
			e.seen = true
			if e.series == nil {
				e.series = s.layout.NewSeries()
			} else {
				e.series.Reset()
			}
			touched = append(touched, e)
		}
		s.layout.Add(e.series, bk, value)
	})
	if err == nil {
		err = readErr
	}
	if err != nil {
		return err
	}
	for _, e := range touched {
		if !keep(e) {
			continue
		}
		// The exposition lives in the series' storage, reused by the
		// next scrape like e.metric itself.
		hist, err := s.layout.Histogram(e.series)
		if err != nil {
			return err
		}
		e.metric.Histogram = hist
		emit(e)
	}
	return nil
}

// lookup returns the cached series of a key, decoding it on a miss, or nil
// when the series is dropped.
func (c *Collector) lookup(s *source, key []byte, labels []config.Label) *seriesEntry {
	if e, hit := s.cache.get(key); hit {
		if e.skip {
			return nil
		}
		return e
	}
	values, err := c.opts.Decoders.DecodeLabels(key, labels)
	if err != nil {
		if errors.Is(err, decoder.ErrSkipLabelSet) {
			s.cache.put(key, &seriesEntry{skip: true})
			return nil
		}
		// Failures are not cached: a cgroup or device may appear later.
		c.stats.decoderErrors[s.loaded.Config.Name]++
		c.opts.Logger.Debug("decoding labels", "config", s.loaded.Config.Name, "map", s.mapName, "err", err)
		return nil
	}
	e := newSeriesEntry(s.labelNames, values, s.layout == nil)
	s.cache.put(key, e)
	return e
}

// gatherMerged gathers a metric defined by several configs, merging series
// with the same label values.
func (c *Collector) gatherMerged(ctx context.Context, f *family) error {
	type merged struct {
		m       *dto.Metric
		counter float64
	}
	byLabels := map[string]*merged{}
	var order []string
	var errs []error
	for _, s := range f.sources {
		err := c.gatherSource(ctx, f, s, func(e *seriesEntry) {
			m := e.metric
			k := labelKey(m)
			if prev, ok := byLabels[k]; ok {
				if m.Counter != nil {
					prev.counter += m.Counter.GetValue()
					prev.m.Counter.Value = &prev.counter
				} else {
					mergeHistogram(prev.m.Histogram, m.Histogram)
				}
				return
			}
			cp := &merged{m: cloneMetric(m)}
			if m.Counter != nil {
				cp.counter = m.Counter.GetValue()
				cp.m.Counter = &dto.Counter{Value: &cp.counter}
			}
			byLabels[k] = cp
			order = append(order, k)
		})
		errs = append(errs, err)
	}
	for _, k := range order {
		f.out.Metric = append(f.out.Metric, byLabels[k].m)
	}
	return errors.Join(errs...)
}

func labelKey(m *dto.Metric) string {
	var b strings.Builder
	for _, l := range m.Label {
		b.WriteString(l.GetValue())
		b.WriteByte(0xff)
	}
	return b.String()
}

func cloneMetric(m *dto.Metric) *dto.Metric {
	cp := &dto.Metric{Label: m.Label}
	if m.Histogram != nil {
		h := dto.Histogram{Schema: m.Histogram.Schema, ZeroThreshold: m.Histogram.ZeroThreshold,
			ZeroCount: m.Histogram.ZeroCount, PositiveSpan: m.Histogram.PositiveSpan,
			PositiveDelta: m.Histogram.PositiveDelta}
		for _, b := range m.Histogram.Bucket {
			bb := dto.Bucket{UpperBound: b.UpperBound}
			n := b.GetCumulativeCount()
			bb.CumulativeCount = &n
			h.Bucket = append(h.Bucket, &bb)
		}
		n, sum := m.Histogram.GetSampleCount(), m.Histogram.GetSampleSum()
		h.SampleCount, h.SampleSum = &n, &sum
		cp.Histogram = &h
	}
	return cp
}

// mergeHistogram adds src's classic buckets, count and sum to dst. Both come
// from configs with the same metric; differing bucket layouts keep dst's.
func mergeHistogram(dst, src *dto.Histogram) {
	if len(dst.Bucket) != len(src.Bucket) {
		return
	}
	for i, b := range src.Bucket {
		n := dst.Bucket[i].GetCumulativeCount() + b.GetCumulativeCount()
		dst.Bucket[i].CumulativeCount = &n
	}
	n := dst.GetSampleCount() + src.GetSampleCount()
	sum := dst.GetSampleSum() + src.GetSampleSum()
	dst.SampleCount, dst.SampleSum = &n, &sum
	// Native buckets cannot be merged by index here: drop them.
	dst.Schema, dst.PositiveSpan, dst.PositiveDelta, dst.ZeroCount, dst.ZeroThreshold = nil, nil, nil, nil, nil
}

// ServeMaps writes the raw contents of every metric map (--debug).
func (c *Collector) ServeMaps(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, f := range c.families {
		for _, s := range f.sources {
			if s.column > 0 {
				continue // a counter's values: its first value's source shows the map
			}
			fmt.Fprintf(w, "# config %s map %s\n", s.loaded.Config.Name, s.mapName)
			m := s.loaded.Maps[s.mapName]
			var err error
			if s.columns > 0 {
				err = s.reader.ReadValues(r.Context(), m, s.columns, func(key []byte, values []uint64) {
					fmt.Fprintf(w, "%x %v\n", key, values)
				})
			} else {
				err = s.reader.ReadContext(r.Context(), m, func(key []byte, value uint64) {
					fmt.Fprintf(w, "%x %d\n", key, value)
				})
			}
			if err != nil {
				fmt.Fprintf(w, "# error: %v\n", err)
			}
		}
	}
}
