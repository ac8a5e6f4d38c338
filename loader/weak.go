package loader

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"math"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// libbpfObject is a BPF object with the symbol conventions of libbpf's
// headers made into what cilium/ebpf expects.
type libbpfObject struct {
	// object is the ELF, with every weak symbol it defines made global.
	object io.ReaderAt
	// hiddenFuncs are the functions with hidden visibility: libbpf verifies
	// them as static subprograms, not as global functions.
	hiddenFuncs map[string]bool
	// cookieLoads are the instructions that read LINUX_HAS_BPF_COOKIE.
	cookieLoads map[kconfigLoad]bool
}

// readLibbpfObject reads the symbol table of a BPF object. libbpf's headers
// define maps and helper functions as weak so that several objects can be
// linked into one (usdt.bpf.h's spec maps and bpf_usdt_arg(), for example);
// in a single object, as a config's is, a defined weak symbol means the same
// as a global one, which is what cilium/ebpf accepts, so the returned object
// has them global. Weak symbols the object only refers to (weak externs) are
// left alone. The input is not modified.
func readLibbpfObject(obj io.ReaderAt) (*libbpfObject, error) {
	f, err := elf.NewFile(obj)
	if err != nil {
		return nil, err
	}
	out := &libbpfObject{object: obj, hiddenFuncs: map[string]bool{}}
	symtab := f.SectionByType(elf.SHT_SYMTAB)
	if symtab == nil || f.Class != elf.ELFCLASS64 {
		return out, nil
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("reading the symbol table: %w", err)
	}
	if out.cookieLoads, err = readKconfigLoads(f, syms, bpfCookieKconfig); err != nil {
		return nil, err
	}
	var weak []int // indexes in the table, which starts with the null symbol
	for i, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && elf.ST_VISIBILITY(s.Other) == elf.STV_HIDDEN {
			out.hiddenFuncs[s.Name] = true
		}
		if elf.ST_BIND(s.Info) == elf.STB_WEAK && s.Section != elf.SHN_UNDEF {
			weak = append(weak, i+1)
		}
	}
	if len(weak) == 0 {
		return out, nil
	}
	data, err := io.ReadAll(io.NewSectionReader(obj, 0, math.MaxInt64))
	if err != nil {
		return nil, fmt.Errorf("reading the object: %w", err)
	}
	const symSize = 24 // Elf64_Sym: name u32, info u8, other u8, shndx u16, value u64, size u64
	for _, i := range weak {
		at := int(symtab.Offset) + i*symSize + 4
		if at >= len(data) {
			return nil, fmt.Errorf("symbol %d is outside the object", i)
		}
		data[at] = elf.ST_INFO(elf.STB_GLOBAL, elf.ST_TYPE(data[at]))
	}
	out.object = bytes.NewReader(data)
	return out, nil
}

// makeHiddenFuncsStatic gives the hidden functions of the object static
// linkage in its BTF, as libbpf does, so the verifier checks them in the
// context of each call rather than on their own.
func (o *libbpfObject) makeHiddenFuncsStatic(spec *ebpf.CollectionSpec) {
	if len(o.hiddenFuncs) == 0 {
		return
	}
	for _, p := range spec.Programs {
		for i := range p.Instructions {
			if fn := btf.FuncMetadata(&p.Instructions[i]); fn != nil && o.hiddenFuncs[fn.Name] {
				fn.Linkage = btf.StaticFunc
			}
		}
	}
}
