package attach

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// USDTNote is one SystemTap SDT probe site from an ELF .note.stapsdt
// section, with its addresses translated the way libbpf translates them.
type USDTNote struct {
	Provider string
	Name     string
	// Args is the argument spec, e.g. "-4@%edi 8@%rsi".
	Args string
	// Location, Base and Semaphore are the addresses recorded in the note.
	Location, Base, Semaphore uint64
	// Offset is the file offset of the probe site: what a uprobe attaches to.
	Offset uint64
	// SemaphoreOffset is the file offset of the semaphore, 0 without one:
	// what the kernel's uprobe ref_ctr_offset increments.
	SemaphoreOffset uint64
	// Machine is the binary's architecture, which the argument spec's
	// register names belong to.
	Machine elf.Machine
}

// attachUSDT attaches "usdt/BINARY:PROVIDER:NAME": one uprobe on every
// matching probe site, each raising the probe's semaphore while attached.
// With opts.USDTSpecs (the program reads its arguments with libbpf's
// BPF_USDT()), each site's argument spec is stored there and its id is the
// uprobe's BPF cookie, as libbpf does.
func attachUSDT(prog *ebpf.Program, _ *ebpf.ProgramSpec, target string, opts Options) (*Attachment, error) {
	parts := strings.Split(target, ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return nil, fmt.Errorf("usdt target %q is not BINARY:PROVIDER:NAME: %w", target, ErrUnsupportedSection)
	}
	provider, name := parts[1], parts[2]
	path, err := resolveBinary(parts[0])
	if err != nil {
		return nil, fmt.Errorf("usdt %s: %w", target, err)
	}
	notes, err := ReadUSDTNotes(path)
	if err != nil {
		return nil, fmt.Errorf("usdt %s: %w", target, err)
	}

	_ = ensureTracefs() // only used when the uprobe PMU is missing

	ex, err := link.OpenExecutable(path)
	if err != nil {
		return nil, fmt.Errorf("usdt %s: %w", target, err)
	}
	var links []link.Link
	for _, n := range notes {
		if n.Provider != provider || n.Name != name {
			continue
		}
		var cookie uint64
		if opts.USDTSpecs != nil {
			args, err := parseUSDTArgs(n.Args, n.Machine)
			if err != nil {
				closeAll(links)
				return nil, fmt.Errorf("usdt %s: probe site at file offset %#x: arguments %q: %w", target, n.Offset, n.Args, err)
			}
			id, err := opts.USDTSpecs.add(args)
			if err != nil {
				closeAll(links)
				return nil, fmt.Errorf("usdt %s: probe site at file offset %#x: %w", target, n.Offset, err)
			}
			cookie = uint64(id)
		}
		l, err := ex.Uprobe("", prog, &link.UprobeOptions{
			Address:      n.Offset,
			RefCtrOffset: n.SemaphoreOffset,
			PID:          opts.PID,
			Cookie:       cookie,
		})
		if err != nil {
			closeAll(links)
			return nil, fmt.Errorf("usdt %s: probe site at file offset %#x: %w", target, n.Offset, err)
		}
		links = append(links, l)
	}
	if len(links) == 0 {
		return nil, fmt.Errorf("usdt %s: %s has no USDT probe %s:%s (%d notes in .note.stapsdt)",
			target, path, provider, name, len(notes))
	}
	return &Attachment{
		Links:  links,
		Kind:   "usdt",
		Target: fmt.Sprintf("%s:%s:%s (%d sites)", path, provider, name, len(links)),
	}, nil
}

// ReadUSDTNotes returns every SystemTap SDT note in the ELF file at path,
// with file offsets computed as libbpf computes them: the location is
// adjusted by how far .stapsdt.base moved (prelink), then mapped through
// the executable PT_LOAD segment containing it; the semaphore through the
// non-executable segment containing it.
func ReadUSDTNotes(path string) ([]USDTNote, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s is not an ELF binary: %w", path, err)
	}
	defer f.Close()

	sec := f.Section(".note.stapsdt")
	if sec == nil {
		return nil, fmt.Errorf("%s has no .note.stapsdt section: %w", path, errors.ErrUnsupported)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("%s: read .note.stapsdt: %w", path, err)
	}
	var baseAddr uint64
	if base := f.Section(".stapsdt.base"); base != nil {
		baseAddr = base.Addr
	}

	notes, err := parseStapsdt(data, f.ByteOrder, f.Class)
	if err != nil {
		return nil, fmt.Errorf("%s: .note.stapsdt: %w", path, err)
	}
	for i := range notes {
		n := &notes[i]
		n.Machine = f.Machine
		ip := n.Location
		if baseAddr != 0 && n.Base != 0 {
			ip += baseAddr - n.Base
		}
		seg := findSegment(f, ip)
		if seg == nil || seg.Flags&elf.PF_X == 0 {
			return nil, fmt.Errorf("%s: USDT %s:%s at %#x is not in an executable segment", path, n.Provider, n.Name, ip)
		}
		n.Offset = ip - seg.Vaddr + seg.Off
		if n.Semaphore != 0 {
			seg := findSegment(f, n.Semaphore)
			if seg == nil || seg.Flags&elf.PF_X != 0 {
				return nil, fmt.Errorf("%s: USDT %s:%s semaphore at %#x is not in a data segment", path, n.Provider, n.Name, n.Semaphore)
			}
			n.SemaphoreOffset = n.Semaphore - seg.Vaddr + seg.Off
		}
	}
	return notes, nil
}

// findSegment returns the PT_LOAD segment whose memory holds addr.
func findSegment(f *elf.File, addr uint64) *elf.Prog {
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Vaddr <= addr && addr < p.Vaddr+p.Memsz {
			return p
		}
	}
	return nil
}

// parseStapsdt decodes ELF notes named "stapsdt" of type 3: three
// addresses (location, base, semaphore) then provider, name and argument
// strings, each NUL-terminated.
func parseStapsdt(data []byte, bo binary.ByteOrder, class elf.Class) ([]USDTNote, error) {
	const noteType = 3
	addrSize := 8
	if class == elf.ELFCLASS32 {
		addrSize = 4
	}
	align4 := func(n uint32) int { return int((n + 3) &^ 3) }

	var notes []USDTNote
	for len(data) > 0 {
		if len(data) < 12 {
			return nil, fmt.Errorf("truncated note header (%d bytes)", len(data))
		}
		namesz, descsz, typ := bo.Uint32(data), bo.Uint32(data[4:]), bo.Uint32(data[8:])
		data = data[12:]
		if len(data) < align4(namesz) {
			return nil, errors.New("truncated note name")
		}
		name := string(bytes.TrimRight(data[:namesz], "\x00"))
		data = data[align4(namesz):]
		if len(data) < int(descsz) {
			return nil, errors.New("truncated note descriptor")
		}
		desc := data[:descsz]
		data = data[min(len(data), align4(descsz)):]
		if name != "stapsdt" || typ != noteType {
			continue
		}

		if len(desc) < 3*addrSize {
			return nil, fmt.Errorf("stapsdt descriptor of %d bytes is too short", len(desc))
		}
		addr := func(i int) uint64 {
			if addrSize == 4 {
				return uint64(bo.Uint32(desc[i*4:]))
			}
			return bo.Uint64(desc[i*8:])
		}
		n := USDTNote{Location: addr(0), Base: addr(1), Semaphore: addr(2)}
		strs := strings.SplitN(string(desc[3*addrSize:]), "\x00", 4)
		if len(strs) < 3 {
			return nil, fmt.Errorf("stapsdt note at %#x lacks provider, name or args", n.Location)
		}
		n.Provider, n.Name, n.Args = strs[0], strs[1], strs[2]
		notes = append(notes, n)
	}
	return notes, nil
}
