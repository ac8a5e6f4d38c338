package decoder

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

func TestKSym(t *testing.T) {
	k := &KSym{syms: newKallsyms("testdata/kallsyms")}
	runDecodeCases(t, k, []decodeCase{
		{name: "exact", in: u64(0xffffffff81000080), out: "entry_SYSCALL_64"},
		{name: "first of aliases", in: u64(0xffffffff81000000), out: "_stext"},
		{name: "first of weak alias", in: u64(0xffffffff81002000), out: "schedule"},
		{name: "module symbol", in: u64(0xffffffffc0a01000), out: "kvm_init"},
		{name: "inside function", in: u64(0xffffffff81001010), out: "unknown_addr:0xffffffff81001010"},
		{name: "below all", in: u64(0x1000), out: "unknown_addr:0x1000"},
		{name: "zero", in: u64(0), out: "unknown_addr:0x0"},
		{name: "max", in: u64(^uint64(0)), out: "unknown_addr:0xffffffffffffffff"},
		{name: "4 bytes", in: u32(1), err: "input is 4 bytes, want an 8 byte address"},
		{name: "empty", in: nil, err: "input is 0 bytes"},
	})
}

func TestKSymUnprivileged(t *testing.T) {
	k := &KSym{syms: newKallsyms("testdata/kallsyms_unprivileged")}
	runDecodeCases(t, k, []decodeCase{
		{name: "zero addresses", in: u64(0xffffffff81000000), err: "needs CAP_SYSLOG"},
	})
}

func TestKSymMissingFile(t *testing.T) {
	k := &KSym{syms: newKallsyms("testdata/does-not-exist")}
	runDecodeCases(t, k, []decodeCase{
		{name: "missing", in: u64(1), err: "reading kallsyms"},
	})
}

func TestKallsymsReloadOnMiss(t *testing.T) {
	path := t.TempDir() + "/kallsyms"
	if err := os.WriteFile(path, []byte("ffffffff81000000 T first\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k := &KSym{syms: newKallsyms(path)}
	k.syms.reload = 0
	runDecodeCases(t, k, []decodeCase{{name: "before", in: u64(0xffffffffc0000000), out: "unknown_addr:0xffffffffc0000000"}})
	if err := os.WriteFile(path, []byte("ffffffff81000000 T first\nffffffffc0000000 t modfunc\t[mod]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runDecodeCases(t, k, []decodeCase{{name: "after", in: u64(0xffffffffc0000000), out: "modfunc"}})
}

// TestKSymKernel resolves real function addresses from /proc/kallsyms.
func TestKSymKernel(t *testing.T) {
	testenv.RequirePrivileged(t)
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		testenv.Skip(t, err.Error())
	}
	defer f.Close()
	want := map[string]uint64{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 3 || (fields[2] != "schedule" && fields[2] != "vfs_read") {
			continue
		}
		addr, err := strconv.ParseUint(fields[0], 16, 64)
		if err != nil || addr == 0 {
			testenv.Skip(t, "kallsyms shows no addresses (kernel.kptr_restrict)")
		}
		if _, ok := want[fields[2]]; !ok {
			want[fields[2]] = addr
		}
	}
	if len(want) == 0 {
		t.Fatal("no schedule or vfs_read in /proc/kallsyms")
	}
	k := &KSym{syms: newKallsyms("/proc/kallsyms")}
	for name, addr := range want {
		out, err := k.Decode(u64(addr), configDecoder("ksym"))
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != name {
			t.Errorf("ksym(0x%x) = %q, want %q", addr, out, name)
		}
	}
}
