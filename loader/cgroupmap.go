package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"time"

	"github.com/cilium/ebpf"

	"github.com/ebpf-exporter/ebpf_exporter/config"
	"github.com/ebpf-exporter/ebpf_exporter/decoder"
)

// cgroupRescan is how often a cgroup_id_map is brought up to date with the
// cgroups that exist.
const cgroupRescan = 5 * time.Second

// cgroupIDMap keeps a config's cgroup_id_map filled with the cgroups whose
// paths match its regexps, as the reference exporter does: the programs use
// it to filter by cgroup. A hash map holds their ids; a cgrp_storage map
// holds 1 in their storage.
type cgroupIDMap struct {
	m      *ebpf.Map
	res    []*regexp.Regexp
	cancel context.CancelFunc
	done   chan struct{}
	// stored are the cgroups, by id, whose cgrp_storage holds 1; nil for a
	// hash map, which can be listed instead.
	stored map[uint64]bool
}

func startCgroupIDMap(cfg *config.Config, maps map[string]*ebpf.Map, logger *slog.Logger) (*cgroupIDMap, error) {
	spec := cfg.CgroupIDMap
	m, ok := maps[spec.Name]
	if !ok {
		return nil, fmt.Errorf("cgroup_id_map: the object has no map named %s", spec.Name)
	}
	c := &cgroupIDMap{m: m, done: make(chan struct{})}
	if spec.Type == config.CgroupIDMapCgrpStorage {
		if m.Type() != ebpf.CgroupStorage || m.KeySize() != 4 {
			return nil, fmt.Errorf("cgroup_id_map: map %s is a %s with %d-byte keys; type cgrp_storage wants BPF_MAP_TYPE_CGRP_STORAGE (int keys: cgroup fds)", spec.Name, m.Type(), m.KeySize())
		}
		c.stored = map[uint64]bool{}
	} else if m.KeySize() != 8 {
		return nil, fmt.Errorf("cgroup_id_map: map %s has %d-byte keys; want 8 (u64 cgroup id)", spec.Name, m.KeySize())
	}
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

// sync adds matching cgroups and removes cgroups that are gone or no longer
// match.
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
	if c.stored != nil {
		return c.syncStorage(cgroups, want, value)
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

// syncStorage sets the storage of newly matching cgroups and deletes it from
// cgroups that no longer match. A cgroup's storage is reached through an
// open fd of its directory; the kernel frees it with the cgroup.
func (c *cgroupIDMap) syncStorage(cgroups map[uint64]string, want map[uint64]bool, value []byte) error {
	for id := range c.stored {
		if want[id] {
			continue
		}
		delete(c.stored, id)
		if path, ok := cgroups[id]; ok {
			_ = withCgroupFD(path, func(fd uint32) error { return c.m.Delete(fd) })
		}
	}
	for id := range want {
		if c.stored[id] {
			continue
		}
		err := withCgroupFD(cgroups[id], func(fd uint32) error { return c.m.Update(fd, value, ebpf.UpdateAny) })
		switch {
		case err == nil:
			c.stored[id] = true
		case !errors.Is(err, os.ErrNotExist): // a cgroup gone since the walk is no error
			return fmt.Errorf("setting the storage of cgroup %s: %w", cgroups[id], err)
		}
	}
	return nil
}

// withCgroupFD calls f with an fd of the cgroup directory at path.
func withCgroupFD(path string, f func(fd uint32) error) error {
	dir, err := os.Open(path)
	if err != nil {
		return err
	}
	defer dir.Close()
	return f(uint32(dir.Fd()))
}

func (c *cgroupIDMap) close() {
	c.cancel()
	<-c.done
}
