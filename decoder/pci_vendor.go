package decoder

import (
	"fmt"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// PCIVendor decodes a decimal 16-bit PCI vendor id (the output of uint) into
// the vendor's name from pci.ids, like "Intel Corporation". An id missing
// from the database decodes to "unknown pci vendor: 0x8086" (reference
// exporter's text); without a database it decodes to the hex id "0x8086".
type PCIVendor struct {
	db *pciDB
}

// Decode implements Decoder.
func (d *PCIVendor) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	id, err := pciInput(in, 16, "vendor id")
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
	if name, ok := d.db.vendors[uint16(id)]; ok {
		return []byte(name), nil
	}
	return fmt.Appendf(nil, "unknown pci vendor: 0x%04x", id), nil
}
