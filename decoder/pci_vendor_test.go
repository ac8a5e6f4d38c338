package decoder

import "testing"

func TestPCIVendor(t *testing.T) {
	runDecodeCases(t, pciVendor(newPCIDB("testdata/pci.ids")), []decodeCase{
		{name: "intel", in: []byte("32902"), out: "Intel Corporation"},      // 0x8086
		{name: "nvidia", in: []byte("4318"), out: "NVIDIA Corporation"},     // 0x10de
		{name: "leading zeros", in: []byte("1"), out: "SafeNet (wrong ID)"}, // 0x0001
		{name: "unknown", in: []byte("48879"), out: "unknown pci vendor: 0xbeef"},
		{name: "too big", in: []byte("65536"), err: "vendor id 65536 does not fit in 16 bits"},
		{name: "garbage", in: []byte("x"), err: `input "x" is not a decimal unsigned integer`},
	})
	runDecodeCases(t, pciVendor(newPCIDB("")), []decodeCase{
		{name: "no database", in: []byte("32902"), out: "0x8086"},
	})
	runDecodeCases(t, pciVendor(newPCIDB("testdata/no-such-pci.ids")), []decodeCase{
		{name: "missing database", in: []byte("1"), out: "0x0001"},
	})
}
