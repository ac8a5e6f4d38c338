package decoder

import (
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// IfName decodes a network interface index into the interface's name, like
// "eth0". As in the reference exporter, the input is the raw 4 byte host
// byte order index (a u32 in the map key), not a decimal string. An index
// with no interface (deleted, or in another network namespace) decodes to
// the index in decimal. Found names are cached.
type IfName struct {
	lookup func(int) (string, error)

	mu    sync.RWMutex
	cache map[uint32]string
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
	name, err := d.lookup(int(idx))
	if err != nil || name == "" {
		return strconv.AppendUint(nil, uint64(idx), 10), nil
	}
	d.mu.Lock()
	if d.cache == nil {
		d.cache = map[uint32]string{}
	}
	d.cache[idx] = name
	d.mu.Unlock()
	return []byte(name), nil
}
