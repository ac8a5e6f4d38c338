package decoder

import "testing"

func TestPCIClass(t *testing.T) {
	runDecodeCases(t, pciClass(newPCIDB("testdata/pci.ids")), []decodeCase{
		{name: "unclassified", in: []byte("0"), out: "Unclassified device"},
		{name: "network", in: []byte("2"), out: "Network controller"},
		{name: "ff", in: []byte("255"), out: "Unassigned class"},
		{name: "unknown", in: []byte("18"), out: "unknown pci class: 0x12"},
		{name: "too big", in: []byte("256"), err: "class 256 does not fit in 8 bits"},
		{name: "garbage", in: nil, err: "is not a decimal unsigned integer"},
	})
	runDecodeCases(t, pciClass(newPCIDB("")), []decodeCase{
		{name: "no database", in: []byte("2"), out: "0x02"},
	})
}
