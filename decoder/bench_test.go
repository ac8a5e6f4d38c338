package decoder

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// BenchmarkDecoders decodes one typical input per decoder chain, against this
// machine's kallsyms, cgroups, devices and BTF where the decoder reads them.
// The collector caches decoded keys, so this cost is paid once per new key.
func BenchmarkDecoders(b *testing.B) {
	u32 := func(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
	u64 := func(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }
	d := func(names ...string) []config.Decoder {
		out := make([]config.Decoder, len(names))
		for i, n := range names {
			out[i] = config.Decoder{Name: n}
		}
		return out
	}
	set, err := NewSet(Options{PCIIDsPath: "testdata/pci.ids"})
	if err != nil {
		b.Fatal(err)
	}
	defer set.Close()
	var ksymAddr uint64
	if os.Geteuid() == 0 {
		if syms, err := readKallsyms(DefaultKallsymsPath); err == nil && len(syms) > 0 {
			ksymAddr = syms[len(syms)/2].addr
		}
	}
	cases := []struct {
		name     string
		in       []byte
		decoders []config.Decoder
	}{
		{"uint", u64(123456), d("uint")},
		{"string", []byte("kworker/0:1\x00\x00\x00\x00\x00"), d("string")},
		{"hex", u64(0xdeadbeef), d("hex")},
		{"inet_ip", []byte{127, 0, 0, 1}, d("inet_ip")},
		{"static_map", u32(2), []config.Decoder{{Name: "uint"}, {Name: "static_map", StaticMap: map[string]string{"1": "read", "2": "write"}}}},
		{"regexp", []byte("kswapd0\x00"), []config.Decoder{{Name: "string"}, {Name: "regexp", Regexps: []string{"^(kswapd).*$"}}}},
		{"syscall", u64(39), d("uint", "syscall")},
		{"errno", u32(2), d("uint", "errno")},
		{"dname", []byte("\x07example\x03com\x00"), d("dname")},
		{"ifname", u32(1), d("ifname")},
		{"majorminor", u32(7 << 8), d("majorminor")},
		{"cgroup", u64(1), d("uint", "cgroup")},
		{"pci_vendor", u32(0x8086), d("uint", "pci_vendor")},
		{"btf_enum", u32(2), []config.Decoder{{Name: "uint"}, {Name: "btf_enum", Enum: "skb_drop_reason"}}},
	}
	if ksymAddr != 0 {
		cases = append(cases,
			struct {
				name     string
				in       []byte
				decoders []config.Decoder
			}{"ksym", u64(ksymAddr), d("ksym")},
			struct {
				name     string
				in       []byte
				decoders []config.Decoder
			}{"kstack", append(append(u64(ksymAddr), u64(ksymAddr+1)...), u64(0)...), d("kstack")})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			label := config.Label{Name: c.name, Size: uint(len(c.in)), Decoders: c.decoders}
			if _, err := set.Decode(c.in, label); err != nil {
				b.Skipf("%s does not decode here: %v", c.name, err)
			}
			b.ReportAllocs()
			for range b.N {
				if _, err := set.Decode(c.in, label); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadKallsyms reads the running kernel's /proc/kallsyms (over
// 100k symbols here): the first ksym or kstack lookup pays this once.
func BenchmarkReadKallsyms(b *testing.B) {
	if _, err := readKallsyms(DefaultKallsymsPath); err != nil {
		b.Skipf("kallsyms: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := readKallsyms(DefaultKallsymsPath); err != nil {
			b.Fatal(err)
		}
	}
}
