package decoder

import "testing"

func TestPCISubclass(t *testing.T) {
	runDecodeCases(t, pciSubclass(newPCIDB("testdata/pci.ids")), []decodeCase{
		{name: "ethernet", in: []byte("512"), out: "Ethernet controller"},        // 0x0200
		{name: "nvme", in: []byte("264"), out: "Non-Volatile memory controller"}, // 0x0108
		{name: "zero", in: []byte("0"), out: "Non-VGA unclassified device"},
		{name: "other network", in: []byte("640"), out: "Network controller"}, // 0x0280
		{name: "unknown subclass", in: []byte("513"), out: "unknown pci subclass: 0x01 (class 0x02)"},
		{name: "unknown class", in: []byte("4608"), out: "unknown pci class: 0x12"},
		{name: "too big", in: []byte("65536"), err: "does not fit in 16 bits"},
		{name: "garbage", in: []byte("-1"), err: "is not a decimal unsigned integer"},
	})
	runDecodeCases(t, pciSubclass(newPCIDB("")), []decodeCase{
		{name: "no database", in: []byte("512"), out: "0x0200"},
	})
}
