package decoder

import (
	"testing"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// fuzzLabels uses every decoder, chained the way configs chain them.
func fuzzLabels() []config.Label {
	d := func(names ...string) []config.Decoder {
		out := make([]config.Decoder, len(names))
		for i, n := range names {
			out[i] = config.Decoder{Name: n}
		}
		return out
	}
	return []config.Label{
		{Name: "uint8", Size: 1, Padding: 1, Decoders: d("uint")},
		{Name: "uint16", Size: 2, Decoders: d("uint", "errno")},
		{Name: "str", Size: 8, Decoders: []config.Decoder{{Name: "string"}, {Name: "regexp", Regexps: []string{"^(a+)", "b"}}}},
		{Name: "hex", Size: 3, Decoders: d("hex")},
		{Name: "ip4", Size: 4, Decoders: d("inet_ip")},
		{Name: "ip6", Size: 16, Decoders: d("inet_ip")},
		{Name: "dname", Size: 12, Decoders: d("dname")},
		{Name: "map", Size: 1, Decoders: []config.Decoder{{Name: "uint"}, {Name: "static_map", StaticMap: map[string]string{"1": "one"}}}},
		{Name: "ksym", Size: 8, Decoders: d("ksym")},
		{Name: "kstack", Size: 24, Decoders: d("kstack")},
		{Name: "syscall", Size: 2, Decoders: d("uint", "syscall")},
		{Name: "majorminor", Size: 4, Decoders: d("majorminor")},
		{Name: "ifname", Size: 4, Decoders: d("ifname")},
		{Name: "cgroup", Size: 1, Decoders: d("uint", "cgroup")},
		{Name: "vendor", Size: 2, Decoders: d("uint", "pci_vendor")},
		{Name: "device", Size: 4, Decoders: d("uint", "pci_device")},
		{Name: "class", Size: 1, Decoders: d("uint", "pci_class")},
		{Name: "subclass", Size: 2, Decoders: d("uint", "pci_subclass")},
		{Name: "enum", Size: 4, Decoders: []config.Decoder{{Name: "uint"}, {Name: "btf_enum", Enum: "test_reason"}}},
		// Decoders fed garbage instead of what they expect.
		{Name: "garbage", Size: 5, Decoders: d("syscall")},
		{Name: "garbage2", Size: 5, Decoders: d("cgroup")},
		{Name: "garbage3", Size: 5, Decoders: d("pci_device")},
		{Name: "garbage4", Size: 5, Decoders: []config.Decoder{{Name: "btf_enum", Enum: "test_signed"}}},
		{Name: "garbage5", Size: 5, Decoders: d("errno")},
	}
}

func fuzzKeySize() int {
	n := 0
	for _, l := range fuzzLabels() {
		n += int(l.Size + l.Padding)
	}
	return n
}

func FuzzDecodeLabels(f *testing.F) {
	size := fuzzKeySize()
	f.Add(make([]byte, size))
	ff := make([]byte, size)
	for i := range ff {
		ff[i] = 0xff
	}
	f.Add(ff)
	digits := make([]byte, size)
	for i := range digits {
		digits[i] = '0' + byte(i%10)
	}
	f.Add(digits)
	f.Add([]byte{})
	f.Add([]byte("short"))

	s := testSet(f)
	// Rescanning the cgroup tree on every miss would make fuzzing crawl.
	s.cgroups.interval = 1 << 62
	labels := fuzzLabels()
	f.Fuzz(func(t *testing.T, key []byte) {
		values, err := s.DecodeLabels(key, labels)
		if len(key) != size && err == nil {
			t.Fatalf("key of %d bytes decoded, labels need %d", len(key), size)
		}
		if err == nil && len(values) != len(labels) {
			t.Fatalf("got %d values for %d labels", len(values), len(labels))
		}
	})
}

// FuzzDecoders feeds arbitrary input to each decoder alone.
func FuzzDecoders(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("123"))
	f.Add([]byte("-1"))
	f.Add([]byte("\x03com\x00"))
	f.Add(make([]byte, 16))
	s := testSet(f)
	s.cgroups.interval = 1 << 62
	confs := map[string]config.Decoder{
		"regexp":     {Name: "regexp", Regexps: []string{"^(x)", "y$"}},
		"static_map": {Name: "static_map", StaticMap: map[string]string{"a": "b"}},
		"btf_enum":   {Name: "btf_enum", Enum: "test_reason"},
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for name, d := range s.decoders {
			conf, ok := confs[name]
			if !ok {
				conf = config.Decoder{Name: name}
			}
			_, _ = d.Decode(in, conf)
		}
	})
}
