package loader

import (
	"debug/elf"
	"errors"
	"fmt"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
)

// bpfCookieKconfig is the extern libbpf's usdt.bpf.h reads to choose between
// BPF cookies and its IP-to-spec map. libbpf sets it from a feature probe;
// cilium/ebpf knows LINUX_KERNEL_VERSION, LINUX_HAS_SYSCALL_WRAPPER and
// CONFIG_* only, and refuses a program that reads it.
const bpfCookieKconfig = "LINUX_HAS_BPF_COOKIE"

var haveBPFCookie = sync.OnceValue(func() bool {
	return features.HaveProgramHelper(ebpf.Kprobe, asm.FnGetAttachCookie) == nil
})

// cookieKconfigMap holds LINUX_HAS_BPF_COOKIE's value for every object that
// reads it: one read-only, frozen byte, so the verifier prunes the branch
// not taken as it does with libbpf's .kconfig.
var cookieKconfigMap = sync.OnceValues(func() (*ebpf.Map, error) {
	var v uint8
	if haveBPFCookie() {
		v = 1
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "ebpf_exp_kcfg",
		Type:       ebpf.Array,
		KeySize:    4,
		ValueSize:  1,
		MaxEntries: 1,
		Flags:      1 << 7, // BPF_F_RDONLY_PROG
		Contents:   []ebpf.MapKV{{Key: uint32(0), Value: v}},
	})
	if err != nil {
		return nil, err
	}
	if err := m.Freeze(); err != nil {
		m.Close()
		return nil, fmt.Errorf("freezing: %w", err)
	}
	return m, nil
})

// kconfigLoad is where an object reads an extern: the function, and the
// instruction's offset in it, in 8-byte units.
type kconfigLoad struct {
	function string
	offset   int
}

// readKconfigLoads returns the instructions of f that read the extern name,
// from the relocations of its code sections.
func readKconfigLoads(f *elf.File, syms []elf.Symbol, name string) (map[kconfigLoad]bool, error) {
	loads := map[kconfigLoad]bool{}
	for _, rel := range f.Sections {
		if rel.Type != elf.SHT_REL || int(rel.Info) >= len(f.Sections) {
			continue
		}
		code := elf.SectionIndex(rel.Info)
		if f.Sections[code].Flags&elf.SHF_EXECINSTR == 0 {
			continue
		}
		data, err := rel.Data()
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", rel.Name, err)
		}
		for ; len(data) >= 16; data = data[16:] { // Elf64_Rel
			off, info := f.ByteOrder.Uint64(data), f.ByteOrder.Uint64(data[8:])
			sym := int(elf.R_SYM64(info))
			if sym < 1 || sym > len(syms) || syms[sym-1].Name != name {
				continue
			}
			fn, ok := functionAt(syms, code, off)
			if !ok {
				return nil, fmt.Errorf("section %s: %s read at %#x, outside any function", f.Sections[code].Name, name, off)
			}
			loads[kconfigLoad{fn.Name, int(off-fn.Value) / asm.InstructionSize}] = true
		}
	}
	return loads, nil
}

// functionAt returns the function symbol of section sec that holds off.
func functionAt(syms []elf.Symbol, sec elf.SectionIndex, off uint64) (elf.Symbol, bool) {
	for _, s := range syms {
		if s.Section == sec && elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value <= off && off < s.Value+s.Size {
			return s, true
		}
	}
	return elf.Symbol{}, false
}

// resolveBPFCookieKconfig makes the object's reads of LINUX_HAS_BPF_COOKIE
// read cookieKconfigMap instead of .kconfig, and drops the extern from
// .kconfig so cilium/ebpf resolves the object's other externs as usual.
func (o *libbpfObject) resolveBPFCookieKconfig(spec *ebpf.CollectionSpec) error {
	if len(o.cookieLoads) == 0 {
		return nil
	}
	m, err := cookieKconfigMap()
	if err != nil {
		return fmt.Errorf("%s: creating its map: %w", bpfCookieKconfig, err)
	}
	for _, p := range spec.Programs {
		fn, start := "", 0
		iter := p.Instructions.Iterate()
		for iter.Next() {
			ins := iter.Ins
			if sym := ins.Symbol(); sym != "" {
				fn, start = sym, int(iter.Offset)
			}
			if !o.cookieLoads[kconfigLoad{fn, int(iter.Offset) - start}] {
				continue
			}
			if !ins.IsLoadFromMap() || ins.Src != asm.PseudoMapValue {
				return fmt.Errorf("program %s: %s read by %v, not a map value load", p.Name, bpfCookieKconfig, *ins)
			}
			load := asm.LoadMapValue(ins.Dst, 0, 0).WithSymbol(ins.Symbol()).WithSource(ins.Source())
			if f := btf.FuncMetadata(ins); f != nil {
				load = btf.WithFuncMetadata(load, f)
			}
			if err := load.AssociateMap(m); err != nil {
				return fmt.Errorf("program %s: %w", p.Name, err)
			}
			*ins = load
		}
	}
	if spec.Types == nil {
		return nil
	}
	var ds *btf.Datasec
	if err := spec.Types.TypeByName(".kconfig", &ds); errors.Is(err, btf.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf(".kconfig: %w", err)
	}
	for i, vsi := range ds.Vars {
		if v, ok := vsi.Type.(*btf.Var); ok && v.Name == bpfCookieKconfig {
			ds.Vars = append(ds.Vars[:i:i], ds.Vars[i+1:]...)
			break
		}
	}
	return nil
}
