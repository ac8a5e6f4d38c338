package decoder

import (
	"testing"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

func TestStaticMap(t *testing.T) {
	m := map[string]string{"0": "read", "1": "write", "": "empty"}
	runDecodeCases(t, &StaticMap{}, []decodeCase{
		{name: "hit", in: []byte("1"), conf: config.Decoder{StaticMap: m}, out: "write"},
		{name: "empty key", in: []byte(""), conf: config.Decoder{StaticMap: m}, out: "empty"},
		{name: "miss", in: []byte("7"), conf: config.Decoder{StaticMap: m}, out: "unknown:7"},
		{name: "miss allow unknown", in: []byte("7"), conf: config.Decoder{StaticMap: m, AllowUnknown: true}, out: "7"},
		{name: "no map", in: []byte("7"), conf: config.Decoder{}, out: "unknown:7"},
		{name: "no map allow unknown", in: []byte("7"), conf: config.Decoder{AllowUnknown: true}, out: "7"},
	})
}
