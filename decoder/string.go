package decoder

import (
	"bytes"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// String decodes a NUL-terminated C string: the bytes up to the first NUL,
// or all of them when there is none.
type String struct{}

// Decode implements Decoder.
func (*String) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	if i := bytes.IndexByte(in, 0); i >= 0 {
		in = in[:i]
	}
	return bytes.Clone(in), nil
}
