package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Status returns a prometheus.Collector of the exporter's own metrics: which
// configs and programs run, what they cost, how full their maps are, and
// what the collector dropped.
func (c *Collector) Status() prometheus.Collector { return (*statusCollector)(c) }

type statusCollector Collector

var (
	enabledDesc = prometheus.NewDesc(namespace+"_enabled_configs",
		"The set of enabled configs.", []string{"name"}, nil)
	attachedDesc = prometheus.NewDesc(namespace+"_ebpf_program_attached",
		"Whether a program of a config is attached (1) or failed to load or attach (0).", []string{"config", "program", "id"}, nil)
	programInfoDesc = prometheus.NewDesc(namespace+"_ebpf_program_info",
		"Info about the loaded eBPF programs.", []string{"config", "program", "tag", "id"}, nil)
	runTimeDesc = prometheus.NewDesc(namespace+"_ebpf_program_run_time_seconds",
		"Time the kernel spent running the program while BPF stats were enabled (see --ebpf.stats).", []string{"config", "program", "id"}, nil)
	runCountDesc = prometheus.NewDesc(namespace+"_ebpf_program_run_count_total",
		"Times the kernel ran the program while BPF stats were enabled (see --ebpf.stats).", []string{"config", "program", "id"}, nil)
	recursionMissesDesc = prometheus.NewDesc(namespace+"_ebpf_program_recursion_misses_total",
		"Times the kernel skipped the program because another BPF program was running on the CPU (events lost).", []string{"config", "program", "id"}, nil)
	decoderErrorDesc = prometheus.NewDesc(namespace+"_decoder_errors_total",
		"Series dropped because a label decoder failed, by config.", []string{"config"}, nil)
	droppedSeriesDesc = prometheus.NewDesc(namespace+"_series_dropped_total",
		"Series dropped because a metric reached --metrics.max-series.", []string{"config", "metric"}, nil)
	mapEntriesDesc = prometheus.NewDesc(namespace+"_map_entries",
		"Entries in a BPF map at the last scrape.", []string{"config", "map"}, nil)
	mapMaxEntriesDesc = prometheus.NewDesc(namespace+"_map_max_entries",
		"Capacity of a BPF map: updates fail once map_entries reaches it.", []string{"config", "map"}, nil)
	gathersDesc = prometheus.NewDesc(namespace+"_map_reads_total",
		"Reads of every metric map; scrapes that arrive while a read runs share it.", nil, nil)
	durationDesc = prometheus.NewDesc(namespace+"_scrape_duration_seconds",
		"Time the last scrape spent reading and decoding a config's maps.", []string{"config"}, nil)
)

func (s *statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{enabledDesc, attachedDesc, programInfoDesc, runTimeDesc, runCountDesc, recursionMissesDesc,
		decoderErrorDesc, droppedSeriesDesc, mapEntriesDesc, mapMaxEntriesDesc, durationDesc, gathersDesc} {
		ch <- d
	}
}

func (s *statusCollector) Collect(ch chan<- prometheus.Metric) {
	c := (*Collector)(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, l := range c.configs {
		name := l.Config.Name
		gauge(enabledDesc, 1, name)
		for _, p := range l.Programs {
			id := ""
			if p.ID != 0 {
				id = strconv.FormatUint(uint64(p.ID), 10)
			}
			attached := 0.0
			if p.Attached() {
				attached = 1
			}
			gauge(attachedDesc, attached, name, p.Name, id)
			if p.Program == nil {
				continue
			}
			gauge(programInfoDesc, 1, name, p.Name, p.Tag, id)
			if st, err := p.Program.Stats(); err == nil {
				counter(runTimeDesc, st.Runtime.Seconds(), name, p.Name, id)
				counter(runCountDesc, float64(st.RunCount), name, p.Name, id)
				counter(recursionMissesDesc, float64(st.RecursionMisses), name, p.Name, id)
			}
		}
		for mapName, m := range l.Maps {
			if n, ok := c.stats.mapEntries[[2]string{name, mapName}]; ok {
				gauge(mapEntriesDesc, float64(n), name, mapName)
				gauge(mapMaxEntriesDesc, float64(m.MaxEntries()), name, mapName)
			}
		}
		errs := c.stats.decoderErrors[name]
		for key, sink := range c.sinks {
			if key.loaded == l {
				errs += sink.DecodeErrors()
			}
		}
		counter(decoderErrorDesc, errs, name)
		if d, ok := c.stats.duration[name]; ok {
			gauge(durationDesc, d, name)
		}
	}
	counter(gathersDesc, c.stats.gathers)
	for k, v := range c.stats.droppedSeries {
		counter(droppedSeriesDesc, v, k[0], k[1])
	}
}
