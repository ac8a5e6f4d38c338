package decoder

import (
	"errors"
	"net"
	"testing"
)

func TestIfName(t *testing.T) {
	d := newIfName()
	d.lookup = func(i int) (string, error) {
		switch i {
		case 1:
			return "lo", nil
		case 2734686214:
			return "eth42", nil
		}
		return "", errors.New("no such network interface")
	}
	runDecodeCases(t, d, []decodeCase{
		{name: "lo", in: []byte{0x1, 0x0, 0x0, 0x0}, out: "lo"},
		{name: "large index", in: u32(2734686214), out: "eth42"},
		{name: "missing", in: u32(0), out: "0"},
		{name: "missing 2", in: u32(99), out: "99"},
		{name: "8 bytes", in: u64(1), err: "input is 8 bytes, want a 4 byte interface index"},
		{name: "decimal", in: []byte("1"), err: "input is 1 bytes"},
	})
}

func TestIfNameHost(t *testing.T) {
	ifaces, err := net.Interfaces()
	if err != nil || len(ifaces) == 0 {
		t.Skip("no network interfaces")
	}
	d := newIfName()
	for _, iface := range ifaces {
		out, err := d.Decode(u32(uint32(iface.Index)), configDecoder("ifname"))
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != iface.Name {
			t.Errorf("ifname(%d) = %q, want %q", iface.Index, out, iface.Name)
		}
	}
}

func TestIfNameNegativeCache(t *testing.T) {
	d := newIfName()
	calls := 0
	d.lookup = func(int) (string, error) {
		calls++
		return "", errors.New("no such network interface")
	}
	for range 3 {
		runDecodeCases(t, d, []decodeCase{{name: "missing", in: u32(5), out: "5"}})
	}
	if calls != 1 {
		t.Errorf("looked up %d times, want 1 (misses are cached)", calls)
	}
}
