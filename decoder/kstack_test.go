package decoder

import (
	"testing"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

func configDecoder(name string) config.Decoder { return config.Decoder{Name: name} }

func TestKStack(t *testing.T) {
	k := &KStack{syms: newKallsyms("testdata/kallsyms")}
	runDecodeCases(t, k, []decodeCase{
		{
			name: "frames",
			in:   cat(u64(0xffffffff81002010), u64(0xffffffff81001004), u64(0xffffffff81000090), u64(0), u64(0xffffffff81002000)),
			out:  "schedule\ndo_one_initcall\nentry_SYSCALL_64",
		},
		{name: "module frame", in: cat(u64(0xffffffffc0a01234), u64(0)), out: "kvm_init"},
		{name: "past last symbol", in: u64(0xffffffffffff0000), out: "kvm_exit"},
		{name: "below all symbols", in: cat(u64(0x10), u64(0xffffffff81002000)), out: "??\nschedule"},
		{name: "no terminator", in: cat(u64(0xffffffff81000000), u64(0xffffffff81000080)), out: "_stext\nentry_SYSCALL_64"},
		{name: "empty stack", in: make([]byte, 24), out: ""},
		{name: "empty input", in: nil, out: ""},
		{name: "not multiple of 8", in: make([]byte, 12), err: "input is 12 bytes, want a multiple of 8"},
	})
}

func TestKStackUnprivileged(t *testing.T) {
	k := &KStack{syms: newKallsyms("testdata/kallsyms_unprivileged")}
	runDecodeCases(t, k, []decodeCase{
		{name: "zero addresses", in: u64(0xffffffff81000000), err: "needs CAP_SYSLOG"},
	})
}
