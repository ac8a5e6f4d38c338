package decoder

import "testing"

func TestDname(t *testing.T) {
	runDecodeCases(t, &Dname{}, []decodeCase{
		{name: "empty", in: nil, out: "."},
		{name: "root", in: []byte{0}, out: "."},
		{name: "tld", in: []byte("\x03com"), out: "com"},
		{name: "name", in: []byte("\x07example\x03com"), out: "example.com"},
		{name: "terminated and padded", in: []byte("\x03www\x07example\x03com\x00\x00\x00\x00"), out: "www.example.com"},
		{name: "overrun", in: []byte("\x05com"), err: "label of 5 bytes at offset 0 runs past the 4 byte input"},
		{name: "overrun later", in: []byte("\x01a\xff"), err: "label of 255 bytes at offset 2"},
	})
}
