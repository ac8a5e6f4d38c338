package decoder

import (
	"encoding/hex"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// Hex decodes bytes into their lowercase hex string, two digits per byte.
type Hex struct{}

// Decode implements Decoder.
func (*Hex) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	return hex.AppendEncode(nil, in), nil
}
