package decoder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
)

// pciDB is the part of the pci.ids database the pci_* decoders use, read on
// first use. A missing database is no error: the decoders then print ids.
type pciDB struct {
	path string

	once       sync.Once
	err        error
	missing    bool
	vendors    map[uint16]string
	devices    map[uint32]string // vendor<<16 | device
	classes    map[uint8]string
	subclasses map[uint16]string // class<<8 | subclass
}

func newPCIDB(path string) *pciDB {
	return &pciDB{path: path}
}

// findPCIIDs returns the first existing path, or "".
func findPCIIDs(paths []string) string {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// load reads the database once. It reports whether the database exists.
func (db *pciDB) load() (bool, error) {
	db.once.Do(func() {
		if db.path == "" {
			db.missing = true
			return
		}
		data, err := os.ReadFile(db.path)
		if errors.Is(err, fs.ErrNotExist) {
			db.missing = true
			return
		}
		if err != nil {
			db.err = fmt.Errorf("reading pci.ids: %w", err)
			return
		}
		db.parse(data)
	})
	return !db.missing, db.err
}

// parse reads the pci.ids format (https://pci-ids.ucw.cz/):
//
//	vendor  vendor_name
//		device  device_name
//			subvendor subdevice  subsystem_name
//	C class  class_name
//		subclass  subclass_name
//			prog-if  prog-if_name
func (db *pciDB) parse(data []byte) {
	db.vendors = map[uint16]string{}
	db.devices = map[uint32]string{}
	db.classes = map[uint8]string{}
	db.subclasses = map[uint16]string{}

	const (
		none = iota
		inVendor
		inClass
	)
	state := none
	var vendor uint16
	var class uint8

	s := bufio.NewScanner(bytes.NewReader(data))
	s.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for s.Scan() {
		line := strings.TrimRight(s.Text(), "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		depth := len(line) - len(strings.TrimLeft(line, "\t"))
		line = line[depth:]
		switch depth {
		case 0:
			state = none
			if rest, ok := strings.CutPrefix(line, "C "); ok {
				id, name, ok := pciIDName(rest, 8)
				if ok {
					class, state = uint8(id), inClass
					db.classes[class] = name
				}
				continue
			}
			id, name, ok := pciIDName(line, 16)
			if ok {
				vendor, state = uint16(id), inVendor
				db.vendors[vendor] = name
			}
		case 1:
			switch state {
			case inVendor:
				if id, name, ok := pciIDName(line, 16); ok {
					db.devices[uint32(vendor)<<16|uint32(id)] = name
				}
			case inClass:
				if id, name, ok := pciIDName(line, 8); ok {
					db.subclasses[uint16(class)<<8|uint16(id)] = name
				}
			}
		}
	}
}

// pciIDName splits "ID  Name" with a hex ID of the given bit size.
func pciIDName(line string, bits int) (uint64, string, bool) {
	idStr, name, ok := strings.Cut(line, " ")
	if !ok || len(idStr) != bits/4 {
		return 0, "", false
	}
	id, err := strconv.ParseUint(idStr, 16, bits)
	if err != nil {
		return 0, "", false
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return 0, "", false
	}
	return id, name, true
}

// pciInput parses a decimal id of at most bits bits.
func pciInput(in []byte, bits int, what string) (uint64, error) {
	n, err := parseUint(in)
	if err != nil {
		return 0, err
	}
	if bits < 64 && n>>bits != 0 {
		return 0, fmt.Errorf("%s %d does not fit in %d bits", what, n, bits)
	}
	return n, nil
}
