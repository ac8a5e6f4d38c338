package decoder

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// IfName decodes a network interface index into the interface's name, like
// "eth0". As in the reference exporter, the input is the raw 4 byte host
// byte order index (a u32 in the map key), not a decimal string. An index
// with no interface (deleted, or in another network namespace) decodes to
// the index in decimal. Found names are cached; a missing index is looked up
// again after 10 seconds.
type IfName struct {
	lookup func(int) (string, error)

	mu     sync.RWMutex
	cache  map[uint32]string
	misses map[uint32]time.Time // indexes not found, and when
}

func newIfName() *IfName {
	return &IfName{
		lookup: func(i int) (string, error) {
			iface, err := net.InterfaceByIndex(i)
			if err != nil {
				return "", err
			}
			return iface.Name, nil
		},
		cache: map[uint32]string{},
	}
}

// Decode implements Decoder.
func (d *IfName) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	if len(in) != 4 {
		return nil, fmt.Errorf("input is %d bytes, want a 4 byte interface index", len(in))
	}
	v, _ := hostUint(in)
	idx := uint32(v)
	d.mu.RLock()
	name, ok := d.cache[idx]
	d.mu.RUnlock()
	if ok {
		return []byte(name), nil
	}
	d.mu.RLock()
	missed, ok := d.misses[idx]
	d.mu.RUnlock()
	if ok && time.Since(missed) < negativeCacheTTL {
		return strconv.AppendUint(nil, uint64(idx), 10), nil
	}
	name, err := d.lookup(int(idx))
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil || name == "" {
		if d.misses == nil || len(d.misses) >= negativeCacheMax {
			d.misses = map[uint32]time.Time{}
		}
		d.misses[idx] = time.Now()
		return strconv.AppendUint(nil, uint64(idx), 10), nil
	}
	if d.cache == nil {
		d.cache = map[uint32]string{}
	}
	d.cache[idx] = name
	delete(d.misses, idx)
	return []byte(name), nil
}
