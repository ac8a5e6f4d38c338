package loader

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/cilium/ebpf"

	"github.com/ebpf-exporter/ebpf_exporter/config"
	"github.com/ebpf-exporter/ebpf_exporter/decoder"
)

// cgroupRescan is how often a cgroup_id_map is brought up to date with the
// cgroups that exist.
const cgroupRescan = 5 * time.Second

// cgroupIDMap keeps a config's cgroup_id_map filled with the ids of the
// cgroups whose paths match its regexps, as the reference exporter does: the
// programs use it to filter by cgroup.
type cgroupIDMap struct {
	m      *ebpf.Map
	res    []*regexp.Regexp
	cancel context.CancelFunc
	done   chan struct{}
}

func startCgroupIDMap(cfg *config.Config, maps map[string]*ebpf.Map, logger *slog.Logger) (*cgroupIDMap, error) {
	spec := cfg.CgroupIDMap
	m, ok := maps[spec.Name]
	if !ok {
		return nil, fmt.Errorf("cgroup_id_map: the object has no map named %s", spec.Name)
	}
	if m.KeySize() != 8 {
		return nil, fmt.Errorf("cgroup_id_map: map %s has %d-byte keys; want 8 (u64 cgroup id)", spec.Name, m.KeySize())
	}
	c := &cgroupIDMap{m: m, done: make(chan struct{})}
	for _, re := range spec.Regexps {
		c.res = append(c.res, regexp.MustCompile(re)) // validated by config
	}
	if err := c.sync(); err != nil {
		return nil, fmt.Errorf("cgroup_id_map %s: %w", spec.Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		defer close(c.done)
		t := time.NewTicker(cgroupRescan)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := c.sync(); err != nil && logger != nil {
					logger.Warn("updating cgroup_id_map", "config", cfg.Name, "map", spec.Name, "err", err)
				}
			}
		}
	}()
	return c, nil
}

// sync adds the ids of matching cgroups and removes ids of cgroups that are
// gone or no longer match.
func (c *cgroupIDMap) sync() error {
	cgroups, err := decoder.Cgroups()
	if err != nil {
		return err
	}
	value := make([]byte, c.m.ValueSize())
	if len(value) > 0 {
		value[0] = 1
	}
	want := map[uint64]bool{}
	for id, path := range cgroups {
		for _, re := range c.res {
			if re.MatchString(path) {
				want[id] = true
				break
			}
		}
	}
	var stale []uint64
	var key uint64
	it := c.m.Iterate()
	var v []byte
	for it.Next(&key, &v) {
		if !want[key] {
			stale = append(stale, key)
		}
	}
	for _, k := range stale {
		_ = c.m.Delete(k)
	}
	for id := range want {
		if err := c.m.Update(id, value, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("adding cgroup %d: %w", id, err)
		}
	}
	return nil
}

func (c *cgroupIDMap) close() {
	c.cancel()
	<-c.done
}
