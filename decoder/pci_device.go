package decoder

import (
	"fmt"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// PCIDevice decodes a decimal vendor<<16|device id (the output of uint on a
// u32, as the reference exporter's pci example builds it) into the device's
// name from pci.ids, like "82542 Gigabit Ethernet Controller (Fiber)" for
// 0x80861000. An id missing from the database decodes to
// "unknown pci device: 0x80861000" (reference exporter's text); without a
// database it decodes to the hex id "0x80861000".
type PCIDevice struct {
	db *pciDB
}

// Decode implements Decoder.
func (d *PCIDevice) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	id, err := pciInput(in, 32, "vendor<<16|device id")
	if err != nil {
		return nil, err
	}
	ok, err := d.db.load()
	if err != nil {
		return nil, err
	}
	if !ok {
		return fmt.Appendf(nil, "0x%08x", id), nil
	}
	if name, ok := d.db.devices[uint32(id)]; ok {
		return []byte(name), nil
	}
	return fmt.Appendf(nil, "unknown pci device: 0x%08x", id), nil
}
