package collector

// labelCache remembers the decoded label values of raw map keys between
// scrapes. Keys not seen in a scrape are evicted at its end, so the cache
// never holds more entries than the map.
type labelCache struct {
	entries map[string]*cacheEntry
	gen     uint64
}

type cacheEntry struct {
	values []string
	ok     bool
	gen    uint64
}

func newLabelCache() *labelCache { return &labelCache{entries: map[string]*cacheEntry{}} }

func (c *labelCache) startScrape() { c.gen++ }

func (c *labelCache) get(key []byte) (*cacheEntry, bool) {
	e, ok := c.entries[string(key)]
	if ok {
		e.gen = c.gen
	}
	return e, ok
}

func (c *labelCache) put(key []byte, values []string, ok bool) {
	c.entries[string(key)] = &cacheEntry{values: values, ok: ok, gen: c.gen}
}

// endScrape evicts keys that were not read in this scrape.
func (c *labelCache) endScrape() {
	for k, e := range c.entries {
		if e.gen != c.gen {
			delete(c.entries, k)
		}
	}
}
