package decoder

import (
	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// StaticMap looks its input up in the decoder's static_map. An input missing
// from the map decodes, as in the reference exporter, to "unknown:INPUT", or
// to the input itself when allow_unknown is set.
type StaticMap struct{}

// Decode implements Decoder.
func (*StaticMap) Decode(in []byte, conf config.Decoder) ([]byte, error) {
	if v, ok := conf.StaticMap[string(in)]; ok {
		return []byte(v), nil
	}
	if conf.AllowUnknown {
		return append([]byte(nil), in...), nil
	}
	return append([]byte("unknown:"), in...), nil
}
