package decoder

import "testing"

func TestHex(t *testing.T) {
	runDecodeCases(t, &Hex{}, []decodeCase{
		{name: "bytes", in: []byte{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01}, out: "deadbeef0001"},
		{name: "empty", in: nil, out: ""},
	})
}
