package decoder

import (
	"fmt"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// PCIClass decodes a decimal 8-bit PCI base class (the output of uint) into
// the class name from pci.ids, like "Network controller" for 2. A class
// missing from the database decodes to "unknown pci class: 0x02" (reference
// exporter's text); without a database it decodes to the hex id "0x02".
type PCIClass struct {
	db *pciDB
}

// Decode implements Decoder.
func (d *PCIClass) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	id, err := pciInput(in, 8, "class")
	if err != nil {
		return nil, err
	}
	ok, err := d.db.load()
	if err != nil {
		return nil, err
	}
	if !ok {
		return fmt.Appendf(nil, "0x%02x", id), nil
	}
	if name, ok := d.db.classes[uint8(id)]; ok {
		return []byte(name), nil
	}
	return fmt.Appendf(nil, "unknown pci class: 0x%02x", id), nil
}
