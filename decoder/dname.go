package decoder

import (
	"fmt"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// Dname decodes a DNS name in wire format (RFC 1035 section 3.1: labels, each
// a length byte then that many bytes) into dotted text: "\x07example\x03com"
// becomes "example.com". An empty input or a leading zero-length (root)
// label decodes to ".".
//
// Decoding stops at the first zero-length label, so the NUL terminator and
// any zero padding after the name are ignored. A label running past the end
// of the input is an error.
type Dname struct{}

// Decode implements Decoder.
func (*Dname) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	out := make([]byte, 0, len(in))
	for off := 0; off < len(in); {
		n := int(in[off])
		if n == 0 {
			break
		}
		off++
		if off+n > len(in) {
			return nil, fmt.Errorf("label of %d bytes at offset %d runs past the %d byte input", n, off-1, len(in))
		}
		if len(out) > 0 {
			out = append(out, '.')
		}
		out = append(out, in[off:off+n]...)
		off += n
	}
	if len(out) == 0 {
		return []byte("."), nil
	}
	return out, nil
}
