package decoder

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// MajorMinor decodes a block device number into the device's name, like
// "sda" or "nvme0n1p1". As in the reference exporter, the input is the raw
// 4 (or 8) byte host byte order number in the userspace dev_t encoding the
// kernel's new_encode_dev() produces and the reference examples build with
// MKDEV(ma, mi) = (mi & 0xff) | (ma << 8) | ((mi & ~0xff) << 12): 0x800 is
// 8:0. It is not a decimal string and not the kernel-internal
// (major << 20 | minor) dev_t.
//
// The name is DEVNAME of /sys/dev/block/MAJOR:MINOR/uevent; a device not
// found there decodes to "MAJOR:MINOR". Found names are cached; a device
// not found is looked up again after 10 seconds.
type MajorMinor struct {
	sysRoot string // /sys/dev/block

	mu     sync.RWMutex
	cache  map[uint64]string
	misses map[uint64]time.Time // devices not found, and when
}

func newMajorMinor(sysRoot string) *MajorMinor {
	return &MajorMinor{sysRoot: sysRoot, cache: map[uint64]string{}}
}

// Decode implements Decoder.
func (m *MajorMinor) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	dev, err := hostUint(in)
	if err != nil {
		return nil, err
	}
	m.mu.RLock()
	name, ok := m.cache[dev]
	m.mu.RUnlock()
	if ok {
		return []byte(name), nil
	}
	major, minor := unix.Major(dev), unix.Minor(dev)
	id := fmt.Sprintf("%d:%d", major, minor)
	m.mu.RLock()
	missed, ok := m.misses[dev]
	m.mu.RUnlock()
	if ok && time.Since(missed) < negativeCacheTTL {
		return []byte(id), nil
	}
	name = blockDevName(filepath.Join(m.sysRoot, id, "uevent"))
	m.mu.Lock()
	defer m.mu.Unlock()
	if name == "" {
		if m.misses == nil || len(m.misses) >= negativeCacheMax {
			m.misses = map[uint64]time.Time{}
		}
		m.misses[dev] = time.Now()
		return []byte(id), nil
	}
	if m.cache == nil {
		m.cache = map[uint64]string{}
	}
	m.cache[dev] = name
	delete(m.misses, dev)
	return []byte(name), nil
}

// blockDevName returns DEVNAME from a uevent file, or "".
func blockDevName(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		if name, ok := bytes.CutPrefix(s.Bytes(), []byte("DEVNAME=")); ok {
			return string(name)
		}
	}
	return ""
}
