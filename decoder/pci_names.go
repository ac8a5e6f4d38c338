package decoder

import (
	"fmt"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// PCIName decodes a decimal PCI id (the output of uint) into its name from
// pci.ids. The four PCI decoders differ only in the id's width and which
// table names it:
//
//   - pci_vendor: a 16-bit vendor id, like "Intel Corporation" for 0x8086;
//   - pci_device: vendor<<16|device (as the reference exporter's pci example
//     builds it), like "82542 Gigabit Ethernet Controller (Fiber)" for
//     0x80861000;
//   - pci_class: an 8-bit base class, like "Network controller" for 2;
//   - pci_subclass: class<<8|subclass (the upper 16 bits of the class code),
//     like "Ethernet controller" for 0x0200.
//
// An id missing from the database decodes to the reference exporter's text,
// like "unknown pci vendor: 0x8086" (for a subclass whose class is missing:
// "unknown pci class: 0x02"); without a database it decodes to the hex id,
// like "0x8086".
type PCIName struct {
	db   *pciDB
	bits int    // width of the id
	what string // the id, in errors
	// name returns the id's name, or the text for an unknown id.
	name func(db *pciDB, id uint64) string
}

func pciVendor(db *pciDB) *PCIName {
	return &PCIName{db: db, bits: 16, what: "vendor id", name: func(db *pciDB, id uint64) string {
		if name, ok := db.vendors[uint16(id)]; ok {
			return name
		}
		return fmt.Sprintf("unknown pci vendor: 0x%04x", id)
	}}
}

func pciDevice(db *pciDB) *PCIName {
	return &PCIName{db: db, bits: 32, what: "vendor<<16|device id", name: func(db *pciDB, id uint64) string {
		if name, ok := db.devices[uint32(id)]; ok {
			return name
		}
		return fmt.Sprintf("unknown pci device: 0x%08x", id)
	}}
}

func pciClass(db *pciDB) *PCIName {
	return &PCIName{db: db, bits: 8, what: "class", name: func(db *pciDB, id uint64) string {
		if name, ok := db.classes[uint8(id)]; ok {
			return name
		}
		return fmt.Sprintf("unknown pci class: 0x%02x", id)
	}}
}

func pciSubclass(db *pciDB) *PCIName {
	return &PCIName{db: db, bits: 16, what: "class<<8|subclass", name: func(db *pciDB, id uint64) string {
		class, sub := id>>8, id&0xff
		if _, ok := db.classes[uint8(class)]; !ok {
			return fmt.Sprintf("unknown pci class: 0x%02x", class)
		}
		if name, ok := db.subclasses[uint16(id)]; ok {
			return name
		}
		return fmt.Sprintf("unknown pci subclass: 0x%02x (class 0x%02x)", sub, class)
	}}
}

// Decode implements Decoder.
func (d *PCIName) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	id, err := pciInput(in, d.bits, d.what)
	if err != nil {
		return nil, err
	}
	ok, err := d.db.load()
	if err != nil {
		return nil, err
	}
	if !ok {
		return fmt.Appendf(nil, "0x%0*x", d.bits/4, id), nil
	}
	return []byte(d.name(d.db, id)), nil
}
