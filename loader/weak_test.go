package loader

import (
	"bytes"
	"debug/elf"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

// usdtObject is a test object built from libbpf's usdt.bpf.h: weak maps,
// weak hidden functions and the LINUX_HAS_BPF_COOKIE extern.
const usdtObject = "../test/testdata/usdtargs.bpf.o"

func TestReadLibbpfObject(t *testing.T) {
	raw, err := os.ReadFile(usdtObject)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(raw)); err == nil {
		t.Fatal("cilium/ebpf now reads weak maps itself: readLibbpfObject may be unneeded")
	}
	obj, err := readLibbpfObject(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}

	f, err := elf.NewFile(obj.object)
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	bind := map[string]elf.SymBind{}
	for _, s := range syms {
		bind[s.Name] = elf.ST_BIND(s.Info)
	}
	for _, name := range []string{"__bpf_usdt_specs", "__bpf_usdt_ip_to_spec_id", "bpf_usdt_arg", "bpf_usdt_arg_cnt"} {
		if bind[name] != elf.STB_GLOBAL {
			t.Errorf("%s: binding %v, want STB_GLOBAL", name, bind[name])
		}
	}
	if bind[bpfCookieKconfig] != elf.STB_GLOBAL { // an extern: left as it is
		t.Errorf("%s: binding %v", bpfCookieKconfig, bind[bpfCookieKconfig])
	}
	if orig, _ := elf.NewFile(bytes.NewReader(raw)); orig != nil {
		if s, _ := orig.Symbols(); len(s) != len(syms) {
			t.Errorf("%d symbols, the original has %d", len(syms), len(s))
		}
	}
	if raw[0] != 0x7f || !bytes.Equal(raw, mustRead(t, usdtObject)) {
		t.Error("the input was modified")
	}

	if !obj.hiddenFuncs["bpf_usdt_arg"] || !obj.hiddenFuncs["bpf_usdt_arg_cnt"] || obj.hiddenFuncs["on_args"] {
		t.Errorf("hidden functions %v", obj.hiddenFuncs)
	}
	// bpf_usdt_arg(), bpf_usdt_arg_cnt() and bpf_usdt_cookie() each read
	// the extern once (the last is not called by on_args).
	fns := map[string]int{}
	for l := range obj.cookieLoads {
		fns[l.function]++
	}
	if len(obj.cookieLoads) != 3 || fns["bpf_usdt_arg"] != 1 || fns["bpf_usdt_arg_cnt"] != 1 || fns["bpf_usdt_cookie"] != 1 {
		t.Errorf("extern reads %v", obj.cookieLoads)
	}

	spec, err := ebpf.LoadCollectionSpecFromReader(obj.object)
	if err != nil {
		t.Fatal(err)
	}
	obj.makeHiddenFuncsStatic(spec)
	statics := 0
	for _, ins := range spec.Programs["on_args"].Instructions {
		if fn := btf.FuncMetadata(&ins); fn != nil {
			if want := map[bool]btf.FuncLinkage{true: btf.StaticFunc, false: btf.GlobalFunc}[obj.hiddenFuncs[fn.Name]]; fn.Linkage != want {
				t.Errorf("%s: linkage %v, want %v", fn.Name, fn.Linkage, want)
			}
			if fn.Linkage == btf.StaticFunc {
				statics++
			}
		}
	}
	if statics != 2 {
		t.Errorf("%d static functions in on_args, want 2", statics)
	}
}

func TestResolveBPFCookieKconfig(t *testing.T) {
	obj, err := readLibbpfObject(bytes.NewReader(mustRead(t, usdtObject)))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(obj.object)
	if err != nil {
		t.Fatal(err)
	}
	testenv.RequirePrivileged(t) // creates a map
	if err := obj.resolveBPFCookieKconfig(spec); err != nil {
		t.Fatal(err)
	}
	m, _ := cookieKconfigMap()
	rewritten := 0
	for _, ins := range spec.Programs["on_args"].Instructions {
		if ins.IsLoadFromMap() && ins.Src == asm.PseudoMapValue && ins.Reference() == "" {
			if ins.Map() != m {
				t.Errorf("%v: a map value load left to .kconfig", ins)
			}
			rewritten++
		}
	}
	if rewritten != 2 {
		t.Errorf("%d loads read the cookie map, want 2", rewritten)
	}
	var ds *btf.Datasec
	if err := spec.Types.TypeByName(".kconfig", &ds); err != nil {
		t.Fatal(err)
	}
	for _, v := range ds.Vars {
		if v.Type.TypeName() == bpfCookieKconfig {
			t.Errorf(".kconfig still declares %s", bpfCookieKconfig)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
