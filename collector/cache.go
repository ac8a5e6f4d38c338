package collector

import (
	"strings"

	dto "github.com/prometheus/client_model/go"

	"github.com/ebpf-exporter/ebpf_exporter/histogram"
)

// seriesCache remembers the decoded series of raw map keys between scrapes,
// with the exposition objects built for them. Keys not seen in a scrape are
// evicted at its end, so the cache never holds more entries than the map.
//
// A batch read returns a map's keys in the same order scrape after scrape
// while the map's keys do not change, so the cache first tries the entry that
// followed the previous hit in the last scrape's order: one comparison instead
// of a hash lookup.
type seriesCache struct {
	entries map[string]*seriesEntry
	gen     uint64
	prev    []*seriesEntry // entries in the order the last scrape read them
	next    []*seriesEntry // entries in the order this scrape reads them
	pos     int            // index in prev of the entry expected next
}

// seriesEntry is one decoded series.
type seriesEntry struct {
	key        string
	skip       bool   // dropped by a regexp decoder
	gen        uint64 // scrape that last read it
	index      int    // position in the scrape's order
	seen       bool   // counted in the current scrape
	values     []string
	labelPairs []*dto.LabelPair
	labelText  []byte // counters: `{name="value",...}` for text exposition
	metric     *dto.Metric
	value      float64           // counters: the value metric points to
	raw        uint64            // counters: the value as read
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
		e.labelText = labelText(names, values)
	}
	return e
}

var labelValueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

// labelText renders labels as the text and OpenMetrics formats write them.
func labelText(names []*string, values []string) []byte {
	if len(values) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(*names[i])
		b.WriteString(`="`)
		labelValueEscaper.WriteString(&b, v)
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return []byte(b.String())
}

func (c *seriesCache) startScrape() {
	c.gen++
	c.pos = 0
	c.next = c.next[:0]
}

// get returns the entry of key, marking it read in this scrape.
func (c *seriesCache) get(key []byte) (*seriesEntry, bool) {
	var e *seriesEntry
	if c.pos < len(c.prev) && c.prev[c.pos].key == string(key) {
		e = c.prev[c.pos]
	} else if e = c.entries[string(key)]; e == nil {
		return nil, false
	}
	if e.gen == c.gen {
		c.pos = e.index + 1
		return e, true
	}
	c.pos = e.index + 1
	e.gen = c.gen
	e.seen = false
	e.index = len(c.next)
	c.next = append(c.next, e)
	return e, true
}

func (c *seriesCache) put(key []byte, e *seriesEntry) {
	e.key = string(key)
	e.gen = c.gen
	e.index = len(c.next)
	c.next = append(c.next, e)
	c.entries[e.key] = e
}

// endScrape evicts keys that were not read in this scrape.
func (c *seriesCache) endScrape() {
	for _, e := range c.prev {
		if e.gen != c.gen && c.entries[e.key] == e {
			delete(c.entries, e.key)
		}
	}
	c.prev, c.next = c.next, c.prev
	for i := range c.next {
		c.next[i] = nil
	}
}
