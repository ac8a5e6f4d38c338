package decoder

import (
	"fmt"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// PCISubclass decodes a decimal class<<8|subclass (the output of uint on a
// u16, the upper 16 bits of the PCI class code) into the subclass name from
// pci.ids, like "Ethernet controller" for 0x0200. A missing class decodes to
// "unknown pci class: 0x02", a missing subclass to
// "unknown pci subclass: 0x00 (class 0x02)" (reference exporter's texts);
// without a database it decodes to the hex id "0x0200".
type PCISubclass struct {
	db *pciDB
}

// Decode implements Decoder.
func (d *PCISubclass) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	id, err := pciInput(in, 16, "class<<8|subclass")
	if err != nil {
		return nil, err
	}
	ok, err := d.db.load()
	if err != nil {
		return nil, err
	}
	if !ok {
		return fmt.Appendf(nil, "0x%04x", id), nil
	}
	class, sub := id>>8, id&0xff
	if _, ok := d.db.classes[uint8(class)]; !ok {
		return fmt.Appendf(nil, "unknown pci class: 0x%02x", class), nil
	}
	if name, ok := d.db.subclasses[uint16(id)]; ok {
		return []byte(name), nil
	}
	return fmt.Appendf(nil, "unknown pci subclass: 0x%02x (class 0x%02x)", sub, class), nil
}
