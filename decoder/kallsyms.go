package decoder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
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
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading kallsyms: %w", err)
	}
	defer f.Close()
	// /proc/kallsyms has over 100k lines: parse them in place, keeping the
	// names in one arena that the entries' strings share, so the table costs
	// about its own size rather than an allocation per symbol.
	type pending struct {
		addr     uint64
		off, end int
	}
	var (
		found []pending
		arena []byte
		lines int
	)
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for s.Scan() {
		// "ffffffff81000000 T _stext" or "ffffffffc0a01000 t foo\t[kvm]"
		addrField, rest, ok := bytes.Cut(s.Bytes(), []byte(" "))
		if !ok {
			continue
		}
		_, rest, ok = bytes.Cut(rest, []byte(" ")) // the type letter
		if !ok {
			continue
		}
		name, _, _ := bytes.Cut(rest, []byte("\t"))
		name = bytes.TrimSpace(name)
		addr, ok := parseHex(addrField)
		if !ok || len(name) == 0 {
			continue
		}
		lines++
		if addr == 0 {
			continue
		}
		found = append(found, pending{addr, len(arena), len(arena) + len(name)})
		arena = append(arena, name...)
	}
	names := string(arena)
	syms := make([]ksymEntry, len(found))
	for i, p := range found {
		syms[i] = ksymEntry{addr: p.addr, name: names[p.off:p.end]}
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

// parseHex parses a hexadecimal address without allocating.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
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
