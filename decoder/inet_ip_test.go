package decoder

import "testing"

func TestInetIP(t *testing.T) {
	runDecodeCases(t, &InetIP{}, []decodeCase{
		{name: "ipv4", in: []byte{10, 0, 0, 1}, out: "10.0.0.1"},
		{name: "ipv4 zero", in: []byte{0, 0, 0, 0}, out: "0.0.0.0"},
		{name: "ipv6", in: []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, out: "2001:db8::1"},
		{name: "ipv6 loopback", in: append(make([]byte, 15), 1), out: "::1"},
		{name: "ipv4 mapped", in: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 2}, out: "192.168.1.2"},
		{name: "empty", in: nil, err: "input is 0 bytes, want 4 (IPv4) or 16 (IPv6)"},
		{name: "5 bytes", in: []byte{1, 2, 3, 4, 5}, err: "input is 5 bytes"},
	})
}
