package decoder

import "testing"

func TestPCIDevice(t *testing.T) {
	runDecodeCases(t, pciDevice(newPCIDB("testdata/pci.ids")), []decodeCase{
		{name: "intel", in: []byte("2156269568"), out: "82542 Gigabit Ethernet Controller (Fiber)"}, // 0x80861000
		{name: "nvidia", in: []byte("282994436"), out: "AD103 [GeForce RTX 4080]"},                  // 0x10de2704
		{name: "mellanox", in: []byte("364056607"), out: "MT2894 Family [ConnectX-6 Lx]"},           // 0x15b3101f
		{name: "device of other vendor", in: []byte("282988544"), out: "unknown pci device: 0x10de1000"},
		{name: "unknown", in: []byte("3735928559"), out: "unknown pci device: 0xdeadbeef"},
		{name: "too big", in: []byte("4294967296"), err: "does not fit in 32 bits"},
		{name: "garbage", in: []byte{0xff}, err: "is not a decimal unsigned integer"},
	})
	runDecodeCases(t, pciDevice(newPCIDB("")), []decodeCase{
		{name: "no database", in: []byte("2156269568"), out: "0x80861000"},
	})
}
