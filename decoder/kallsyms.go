package decoder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// kallsymsReloadInterval limits how often a missed address rereads kallsyms
// (modules loaded after the table was read add symbols).
const kallsymsReloadInterval = 10 * time.Second

type ksymEntry struct {
	addr uint64
	name string
}

// kallsyms is the kernel symbol table shared by ksym and kstack, read on
// first use and reread on a miss at most every kallsymsReloadInterval.
type kallsyms struct {
	path string

	mu       sync.Mutex
	syms     []ksymEntry // sorted by addr; first in file order among equal addrs
	loadedAt time.Time
	err      error
	reload   time.Duration
}

func newKallsyms(path string) *kallsyms {
	return &kallsyms{path: path, reload: kallsymsReloadInterval}
}

// errKallsymsZero is returned when kallsyms hides addresses from the reader.
var errKallsymsZero = errors.New("all addresses are zero: reading kernel symbol addresses needs CAP_SYSLOG (and kernel.kptr_restrict < 2)")

// load reads the table if it was never read, or if miss is set and the last
// read is older than the reload interval. It must be called with mu held.
func (k *kallsyms) loadLocked(miss bool) error {
	now := time.Now()
	fresh := !k.loadedAt.IsZero() && now.Sub(k.loadedAt) < k.reload
	if fresh || (!miss && !k.loadedAt.IsZero() && k.err == nil) {
		return k.err
	}
	k.loadedAt = now
	syms, err := readKallsyms(k.path)
	if err != nil {
		// Keep a previously read table: a transient read failure should not
		// lose symbols we already know.
		if k.syms == nil {
			k.err = err
		}
		return k.err
	}
	k.syms, k.err = syms, nil
	return nil
}

func readKallsyms(path string) ([]ksymEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading kallsyms: %w", err)
	}
	var syms []ksymEntry
	lines := 0
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		// "ffffffff81000000 T _stext" or "ffffffffc0a01000 t foo\t[kvm]"
		fields := bytes.Fields(s.Bytes())
		if len(fields) < 3 {
			continue
		}
		addr, err := strconv.ParseUint(string(fields[0]), 16, 64)
		if err != nil {
			continue
		}
		lines++
		if addr == 0 {
			continue
		}
		syms = append(syms, ksymEntry{addr: addr, name: string(fields[2])})
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("reading kallsyms %s: %w", path, err)
	}
	if lines == 0 {
		return nil, fmt.Errorf("kallsyms %s has no symbols", path)
	}
	if len(syms) == 0 {
		return nil, fmt.Errorf("kallsyms %s: %w", path, errKallsymsZero)
	}
	slices.SortStableFunc(syms, func(a, b ksymEntry) int {
		switch {
		case a.addr < b.addr:
			return -1
		case a.addr > b.addr:
			return 1
		}
		return 0
	})
	return syms, nil
}

// floorLocked returns the index of the first symbol at the greatest address
// not above addr, or -1.
func (k *kallsyms) floorLocked(addr uint64) int {
	// First index with address > addr.
	i, _ := slices.BinarySearchFunc(k.syms, addr+1, func(e ksymEntry, t uint64) int {
		switch {
		case e.addr < t:
			return -1
		case e.addr > t:
			return 1
		}
		return 0
	})
	if addr == ^uint64(0) {
		i = len(k.syms)
	}
	if i == 0 {
		return -1
	}
	// Step back to the first entry of the run of equal addresses.
	j := i - 1
	for j > 0 && k.syms[j-1].addr == k.syms[j].addr {
		j--
	}
	return j
}

// Exact returns the symbol starting exactly at addr.
func (k *kallsyms) Exact(addr uint64) (string, bool, error) {
	return k.lookup(addr, true)
}

// Floor returns the symbol containing addr: the nearest at or below it.
func (k *kallsyms) Floor(addr uint64) (string, bool, error) {
	return k.lookup(addr, false)
}

func (k *kallsyms) lookup(addr uint64, exact bool) (string, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.loadLocked(false); err != nil {
		return "", false, err
	}
	if name, ok := k.findLocked(addr, exact); ok {
		return name, true, nil
	}
	if err := k.loadLocked(true); err != nil {
		return "", false, err
	}
	name, ok := k.findLocked(addr, exact)
	return name, ok, nil
}

func (k *kallsyms) findLocked(addr uint64, exact bool) (string, bool) {
	i := k.floorLocked(addr)
	if i < 0 || (exact && k.syms[i].addr != addr) {
		return "", false
	}
	// A floor lookup past the last symbol still resolves to it: kallsyms has
	// no symbol sizes, like the reference exporter.
	return k.syms[i].name, true
}
