package decoder

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// decodeCase is one row of a decoder's table test. err, when set, is a
// substring the error must contain; out is then ignored.
type decodeCase struct {
	name string
	in   []byte
	conf config.Decoder
	out  string
	err  string
}

func runDecodeCases(t *testing.T, d Decoder, cases []decodeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Helper()
			out, err := d.Decode(c.in, c.conf)
			if c.err != "" {
				if err == nil {
					t.Fatalf("Decode(%q) = %q, want error containing %q", c.in, out, c.err)
				}
				if !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Decode(%q) error %q, want it to contain %q", c.in, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%q): %v", c.in, err)
			}
			if string(out) != c.out {
				t.Fatalf("Decode(%q) = %q, want %q", c.in, out, c.out)
			}
		})
	}
}

func u16(v uint16) []byte { return binary.NativeEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// testEnumSpec is a BTF spec with one enum, for btf_enum tests that must not
// depend on the running kernel.
func testEnumSpec() (*btf.Spec, error) {
	b, err := btf.NewBuilder([]btf.Type{
		&btf.Enum{Name: "test_reason", Size: 4, Values: []btf.EnumValue{
			{Name: "TEST_REASON_NONE", Value: 0},
			{Name: "TEST_REASON_ONE", Value: 1},
			{Name: "TEST_REASON_BIG", Value: 1000},
		}},
		&btf.Enum{Name: "test_signed", Size: 4, Signed: true, Values: []btf.EnumValue{
			{Name: "TEST_MINUS_ONE", Value: ^uint64(0)},
			{Name: "TEST_TWO", Value: 2},
		}},
		&btf.Struct{Name: "not_an_enum", Size: 0},
	}, nil)
	if err != nil {
		return nil, err
	}
	return b.Spec()
}

// testSet is a Set reading fixtures instead of host state where it can.
func testSet(t testing.TB) *Set {
	t.Helper()
	s, err := NewSet(Options{
		KallsymsPath: "testdata/kallsyms",
		PCIIDsPath:   "testdata/pci.ids",
		BTF:          testEnumSpec,
		Arch:         "amd64",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestDecodeLabels(t *testing.T) {
	s := testSet(t)

	opMap := config.Decoder{Name: "static_map", StaticMap: map[string]string{"0": "read", "1": "write"}}
	labels := []config.Label{
		{Name: "comm", Size: 8, Decoders: []config.Decoder{{Name: "string"}, {Name: "regexp", Regexps: []string{"^(kswapd).*$", "^bash$"}}}},
		{Name: "op", Size: 1, Padding: 3, Decoders: []config.Decoder{{Name: "uint"}, opMap}},
		{Name: "syscall", Size: 4, Decoders: []config.Decoder{{Name: "uint"}, {Name: "syscall"}}},
		{Name: "bucket", Size: 8, Decoders: []config.Decoder{{Name: "uint"}}},
	}

	cases := []struct {
		name string
		key  []byte
		want []string
		err  string
		skip bool
	}{
		{
			name: "padding and chains",
			key:  cat([]byte("kswapd0\x00"), []byte{1, 0xaa, 0xbb, 0xcc}, u32(59), u64(7)),
			want: []string{"kswapd", "write", "execve", "7"},
		},
		{
			name: "static map miss",
			key:  cat([]byte("bash\x00\x00\x00\x00"), []byte{9, 0, 0, 0}, u32(0), u64(0)),
			want: []string{"bash", "unknown:9", "read", "0"},
		},
		{
			name: "regexp skips",
			key:  cat([]byte("sshd\x00\x00\x00\x00"), []byte{1, 0, 0, 0}, u32(0), u64(0)),
			skip: true,
		},
		{
			name: "short key",
			key:  make([]byte, 23),
			err:  "key is 23 bytes but labels need 24 bytes",
		},
		{
			name: "long key",
			key:  make([]byte, 25),
			err:  "key is 25 bytes but labels need 24 bytes",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.DecodeLabels(c.key, labels)
			switch {
			case c.skip:
				if !errors.Is(err, ErrSkipLabelSet) {
					t.Fatalf("got %q, %v; want ErrSkipLabelSet", got, err)
				}
				if !strings.Contains(err.Error(), `label "comm": decoder regexp`) {
					t.Errorf("error %q does not name the label and decoder", err)
				}
			case c.err != "":
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %q, %v; want error containing %q", got, err, c.err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(got, "|") != strings.Join(c.want, "|") {
					t.Fatalf("got %q, want %q", got, c.want)
				}
			}
		})
	}
}

func TestDecodeLabelsErrors(t *testing.T) {
	s := testSet(t)
	cases := []struct {
		name   string
		key    []byte
		labels []config.Label
		err    string
	}{
		{"zero size", []byte{1}, []config.Label{{Name: "x", Decoders: []config.Decoder{{Name: "uint"}}}}, `label "x": size is zero`},
		{"no decoders", []byte{1}, []config.Label{{Name: "x", Size: 1}}, `label "x": no decoders`},
		{"unknown decoder", []byte{1}, []config.Label{{Name: "x", Size: 1, Decoders: []config.Decoder{{Name: "nope"}}}}, `label "x": unknown decoder "nope"`},
		{"decoder error", []byte{1, 2, 3}, []config.Label{{Name: "x", Size: 3, Decoders: []config.Decoder{{Name: "uint"}}}}, `label "x": decoder uint: input is 3 bytes, want 1, 2, 4 or 8`},
		{"chained error", []byte{0xff}, []config.Label{{Name: "x", Size: 1, Decoders: []config.Decoder{{Name: "hex"}, {Name: "errno"}}}}, `label "x": decoder errno: input "ff"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.DecodeLabels(c.key, c.labels)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("got %q, %v; want error containing %q", got, err, c.err)
			}
			if errors.Is(err, ErrSkipLabelSet) {
				t.Fatalf("error %v must not be a skip", err)
			}
		})
	}
}

func TestDecodeLabelsEmpty(t *testing.T) {
	s := testSet(t)
	got, err := s.DecodeLabels(nil, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("got %q, %v; want no values", got, err)
	}
}

func TestDecodeLabelsInvalidUTF8(t *testing.T) {
	s := testSet(t)
	labels := []config.Label{{Name: "comm", Size: 4, Decoders: []config.Decoder{{Name: "string"}}}}
	got, err := s.DecodeLabels([]byte{'a', 0xff, 'b', 0}, labels)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != "a\uFFFDb" {
		t.Fatalf("got %q, want %q", got[0], "a\uFFFDb")
	}
}

func TestSetNames(t *testing.T) {
	s := testSet(t)
	want := []string{"btf_enum", "cgroup", "dname", "errno", "hex", "ifname", "inet_ip", "kstack", "ksym",
		"majorminor", "pci_class", "pci_device", "pci_subclass", "pci_vendor", "regexp", "static_map",
		"string", "syscall", "uint"}
	for _, n := range want {
		if !s.Has(n) {
			t.Errorf("set has no decoder %q", n)
		}
	}
	if len(s.Names()) != len(want) {
		t.Errorf("set has %d decoders, want %d: %q", len(s.Names()), len(want), s.Names())
	}
}

func TestDecodeLabelsConcurrent(t *testing.T) {
	s := testSet(t)
	labels := fuzzLabels()
	key := make([]byte, fuzzKeySize())
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 50 {
				_, _ = s.DecodeLabels(key, labels)
			}
		}()
	}
	for range 8 {
		<-done
	}
}
