package decoder

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// UInt decodes a host byte order unsigned integer of 1, 2, 4 or 8 bytes into
// its decimal string. Other sizes are an error.
type UInt struct{}

// Decode implements Decoder.
func (*UInt) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	var v uint64
	switch len(in) {
	case 1:
		v = uint64(in[0])
	case 2:
		v = uint64(binary.NativeEndian.Uint16(in))
	case 4:
		v = uint64(binary.NativeEndian.Uint32(in))
	case 8:
		v = binary.NativeEndian.Uint64(in)
	default:
		return nil, fmt.Errorf("input is %d bytes, want 1, 2, 4 or 8", len(in))
	}
	return strconv.AppendUint(nil, v, 10), nil
}
