package decoder

import (
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/ebpf-exporter/ebpf_exporter/config"
	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

func TestBTFEnum(t *testing.T) {
	e := newBTFEnum(testEnumSpec)
	reason := config.Decoder{Enum: "test_reason"}
	signed := config.Decoder{Enum: "test_signed"}
	runDecodeCases(t, e, []decodeCase{
		{name: "zero", in: []byte("0"), conf: reason, out: "TEST_REASON_NONE"},
		{name: "one", in: []byte("1"), conf: reason, out: "TEST_REASON_ONE"},
		{name: "big", in: []byte("1000"), conf: reason, out: "TEST_REASON_BIG"},
		{name: "unknown", in: []byte("7"), conf: reason, out: "unknown:7"},
		{name: "beyond enum size", in: []byte("4294967297"), conf: reason, out: "unknown:4294967297"},
		{name: "signed negative", in: []byte("-1"), conf: signed, out: "TEST_MINUS_ONE"},
		{name: "signed as u32", in: []byte("4294967295"), conf: signed, out: "TEST_MINUS_ONE"},
		{name: "signed positive", in: []byte("2"), conf: signed, out: "TEST_TWO"},
		{name: "no enum field", in: []byte("1"), err: "no enum in config"},
		{name: "missing enum", in: []byte("1"), conf: config.Decoder{Enum: "nope"}, err: `no enum "nope" in kernel BTF`},
		{name: "struct is no enum", in: []byte("1"), conf: config.Decoder{Enum: "not_an_enum"}, err: `no enum "not_an_enum" in kernel BTF`},
		{name: "garbage", in: []byte("x1"), conf: reason, err: `input "x1" is not a decimal unsigned integer`},
		{name: "bad negative", in: []byte("-"), conf: signed, err: `input "-" is not a decimal integer`},
	})
}

func TestBTFEnumLoadError(t *testing.T) {
	calls := 0
	e := newBTFEnum(func() (*btf.Spec, error) {
		calls++
		return nil, errors.New("no BTF here")
	})
	for range 2 {
		runDecodeCases(t, e, []decodeCase{
			{name: "load error", in: []byte("1"), conf: config.Decoder{Enum: "x"}, err: "loading kernel BTF: no BTF here"},
		})
	}
	if calls != 1 {
		t.Errorf("BTF loaded %d times, want once", calls)
	}
}

func TestBTFEnumKernel(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		testenv.Skip(t, "no kernel BTF: "+err.Error())
	}
	e := newBTFEnum(btf.LoadKernelSpec)
	drop := config.Decoder{Enum: "skb_drop_reason"}
	runDecodeCases(t, e, []decodeCase{
		{name: "not specified", in: []byte("2"), conf: drop, out: "SKB_DROP_REASON_NOT_SPECIFIED"},
		{name: "no socket", in: []byte("3"), conf: drop, out: "SKB_DROP_REASON_NO_SOCKET"},
		{name: "bpf_map_type", in: []byte("1"), conf: config.Decoder{Enum: "bpf_map_type"}, out: "BPF_MAP_TYPE_HASH"},
	})
}
