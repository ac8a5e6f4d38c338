package decoder

import (
	"fmt"
	"net/netip"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// InetIP decodes an address in network byte order: 4 bytes into a dotted
// IPv4 address, 16 bytes into an IPv6 address. As in the reference exporter
// (which prints a net.IP), an IPv4-mapped IPv6 address prints as IPv4.
// Other sizes are an error.
type InetIP struct{}

// Decode implements Decoder.
func (*InetIP) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	switch len(in) {
	case 4:
		return netip.AddrFrom4([4]byte(in)).AppendTo(nil), nil
	case 16:
		return netip.AddrFrom16([16]byte(in)).Unmap().AppendTo(nil), nil
	}
	return nil, fmt.Errorf("input is %d bytes, want 4 (IPv4) or 16 (IPv6)", len(in))
}
