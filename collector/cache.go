package collector

import (
	dto "github.com/prometheus/client_model/go"

	"github.com/ebpf-exporter/ebpf_exporter/histogram"
)

// seriesCache remembers the decoded series of raw map keys between scrapes,
// with the exposition objects built for them. Keys not seen in a scrape are
// evicted at its end, so the cache never holds more entries than the map.
type seriesCache struct {
	entries map[string]*seriesEntry
	gen     uint64
}

// seriesEntry is one decoded series.
type seriesEntry struct {
	skip       bool // dropped by a regexp decoder
	gen        uint64
	seen       bool // read in the current scrape
	values     []string
	labelPairs []*dto.LabelPair
	metric     *dto.Metric
	value      float64           // counters: the value metric points to
	series     *histogram.Series // histograms: the counts of this scrape
}

func newSeriesCache() *seriesCache { return &seriesCache{entries: map[string]*seriesEntry{}} }

// newSeriesEntry builds the exposition objects of a series once.
func newSeriesEntry(names []*string, values []string, counter bool) *seriesEntry {
	e := &seriesEntry{values: values, labelPairs: make([]*dto.LabelPair, len(values))}
	for i := range values {
		e.labelPairs[i] = &dto.LabelPair{Name: names[i], Value: &e.values[i]}
	}
	e.metric = &dto.Metric{Label: e.labelPairs}
	if counter {
		e.metric.Counter = &dto.Counter{Value: &e.value}
	}
	return e
}

func (c *seriesCache) startScrape() { c.gen++ }

func (c *seriesCache) get(key []byte) (*seriesEntry, bool) {
	e, ok := c.entries[string(key)]
	if ok && e.gen != c.gen {
		e.gen = c.gen
		e.seen = false
	}
	return e, ok
}

func (c *seriesCache) put(key []byte, e *seriesEntry) {
	e.gen = c.gen
	c.entries[string(key)] = e
}

// endScrape evicts keys that were not read in this scrape.
func (c *seriesCache) endScrape() {
	for k, e := range c.entries {
		if e.gen != c.gen {
			delete(c.entries, k)
		}
	}
}
