package decoder

import "testing"

func TestUInt(t *testing.T) {
	runDecodeCases(t, &UInt{}, []decodeCase{
		{name: "u8", in: []byte{0xfe}, out: "254"},
		{name: "u16", in: u16(0xbeef), out: "48879"},
		{name: "u32", in: u32(4000000000), out: "4000000000"},
		{name: "u64 max", in: u64(^uint64(0)), out: "18446744073709551615"},
		{name: "zero", in: u64(0), out: "0"},
		{name: "empty", in: nil, err: "input is 0 bytes, want 1, 2, 4 or 8"},
		{name: "3 bytes", in: []byte{1, 2, 3}, err: "input is 3 bytes"},
		{name: "16 bytes", in: make([]byte, 16), err: "input is 16 bytes"},
	})
}
