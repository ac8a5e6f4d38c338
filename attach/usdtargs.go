package attach

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// USDTSpecsMap is the map in which libbpf's usdt.bpf.h looks up the
// argument spec of the probe site that fired, by the BPF cookie of its
// uprobe. An object that uses BPF_USDT() or bpf_usdt_arg() has it.
const USDTSpecsMap = "__bpf_usdt_specs"

// usdtArgKind is libbpf's enum __bpf_usdt_arg_type.
type usdtArgKind uint8

const (
	usdtArgConst    usdtArgKind = iota // the value is ValOff
	usdtArgReg                         // the value is a register
	usdtArgRegDeref                    // the value is in memory at register + ValOff
)

// usdtArg is one argument of a probe site: where its value is, as libbpf's
// struct __bpf_usdt_arg_spec has it.
type usdtArg struct {
	Kind   usdtArgKind
	ValOff uint64 // the constant, or the offset added to the register
	RegOff int16  // offset of the register in the kernel's struct pt_regs
	Signed bool
	// BitShift is 64 minus the argument's size in bits: the value is
	// shifted left then right by it, to truncate or sign-extend.
	BitShift uint8
}

// maxUSDTArgs is libbpf's BPF_USDT_MAX_ARG_CNT.
const maxUSDTArgs = 12

// x86_64 registers by every name an argument spec may use, with their
// offsets in struct pt_regs.
var x86Regs = func() map[string]int16 {
	regs := map[string]int16{}
	for off, names := range [][]string{
		{"r15", "r15d", "r15w", "r15b"}, {"r14", "r14d", "r14w", "r14b"},
		{"r13", "r13d", "r13w", "r13b"}, {"r12", "r12d", "r12w", "r12b"},
		{"rbp", "ebp", "bp", "bpl"}, {"rbx", "ebx", "bx", "bl"},
		{"r11", "r11d", "r11w", "r11b"}, {"r10", "r10d", "r10w", "r10b"},
		{"r9", "r9d", "r9w", "r9b"}, {"r8", "r8d", "r8w", "r8b"},
		{"rax", "eax", "ax", "al"}, {"rcx", "ecx", "cx", "cl"},
		{"rdx", "edx", "dx", "dl"}, {"rsi", "esi", "si", "sil"},
		{"rdi", "edi", "di", "dil"}, {"orig_rax"}, {"rip", "eip"},
		{"cs"}, {"eflags"}, {"rsp", "esp", "sp", "spl"},
	} {
		for _, n := range names {
			regs[n] = int16(off * 8)
		}
	}
	return regs
}()

// arm64Reg returns the offset of an arm64 register (x0-x30, w0-w30, sp) in
// struct user_pt_regs, which starts the kernel's struct pt_regs.
func arm64Reg(name string) (int16, bool) {
	if name == "sp" {
		return 31 * 8, true
	}
	if len(name) < 2 || (name[0] != 'x' && name[0] != 'w') {
		return 0, false
	}
	n, err := strconv.Atoi(name[1:])
	if err != nil || n < 0 || n > 30 || strconv.Itoa(n) != name[1:] {
		return 0, false
	}
	return int16(n * 8), true
}

// usdtArch is how one architecture writes argument locations: patterns
// with the named groups size, and off and reg where the kind has them.
type usdtArch struct {
	name     string
	patterns []usdtPattern
	register func(name string) (int16, bool)
}

type usdtPattern struct {
	kind usdtArgKind
	re   *regexp.Regexp
}

var usdtArches = map[elf.Machine]usdtArch{
	elf.EM_X86_64: {
		name: "x86_64",
		patterns: []usdtPattern{
			{usdtArgRegDeref, regexp.MustCompile(`^(?P<size>-?[0-9]+)@(?P<off>-?[0-9]+)?\(%(?P<reg>[a-z0-9_]+)\)$`)},
			{usdtArgReg, regexp.MustCompile(`^(?P<size>-?[0-9]+)@%(?P<reg>[a-z0-9_]+)$`)},
			{usdtArgConst, regexp.MustCompile(`^(?P<size>-?[0-9]+)@\$(?P<off>-?[0-9]+)$`)},
		},
		register: func(name string) (int16, bool) { off, ok := x86Regs[name]; return off, ok },
	},
	elf.EM_AARCH64: {
		name: "arm64",
		patterns: []usdtPattern{
			{usdtArgRegDeref, regexp.MustCompile(`^(?P<size>-?[0-9]+)@\[\s*(?P<reg>[a-z0-9]+)\s*(?:,\s*(?P<off>-?[0-9]+)\s*)?\]$`)},
			{usdtArgReg, regexp.MustCompile(`^(?P<size>-?[0-9]+)@(?P<reg>[a-z][a-z0-9]*)$`)},
			{usdtArgConst, regexp.MustCompile(`^(?P<size>-?[0-9]+)@(?P<off>-?[0-9]+)$`)},
		},
		register: arm64Reg,
	},
}

var errUnspec = errors.New("not a USDT argument spec this exporter reads")

// splitUSDTArgs splits a note's argument string at the spaces between
// arguments; spaces inside [...] (arm64's "-4@[sp, 16]") do not split.
func splitUSDTArgs(s string) []string {
	var out []string
	depth, start := 0, -1
	for i, r := range s {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case r == ' ' || r == '\t':
			if depth == 0 {
				if start >= 0 {
					out = append(out, s[start:i])
				}
				start = -1
				continue
			}
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

// parseUSDTArgs parses a SystemTap SDT argument string ("-4@%edi 8@-8(%rbp)
// -4@$7") for a binary of the given machine, as libbpf does.
func parseUSDTArgs(args string, machine elf.Machine) ([]usdtArg, error) {
	fields := splitUSDTArgs(args)
	if len(fields) > maxUSDTArgs {
		return nil, fmt.Errorf("%d arguments, at most %d are supported", len(fields), maxUSDTArgs)
	}
	out := make([]usdtArg, 0, len(fields))
	for i, f := range fields {
		a, err := parseUSDTArg(f, machine)
		if err != nil {
			return nil, fmt.Errorf("argument %d %q: %w", i, f, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func parseUSDTArg(s string, machine elf.Machine) (usdtArg, error) {
	var a usdtArg
	arch, ok := usdtArches[machine]
	if !ok {
		return a, fmt.Errorf("USDT arguments of %s binaries are not supported (x86_64 and arm64 are)", machine)
	}
	var size, off, reg string
	matched := false
	for _, p := range arch.patterns {
		m := p.re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		group := func(name string) string {
			if i := p.re.SubexpIndex(name); i >= 0 {
				return m[i]
			}
			return ""
		}
		a.Kind, size, off, reg, matched = p.kind, group("size"), group("off"), group("reg"), true
		break
	}
	if !matched {
		return a, errUnspec
	}
	if reg != "" {
		if a.RegOff, ok = arch.register(reg); !ok {
			return a, fmt.Errorf("unknown %s register %s", arch.name, reg)
		}
	}
	sz, err := strconv.Atoi(size)
	if err != nil {
		return a, errUnspec
	}
	a.Signed = sz < 0
	if sz < 0 {
		sz = -sz
	}
	switch sz {
	case 1, 2, 4, 8:
		a.BitShift = uint8(64 - sz*8)
	default:
		return a, fmt.Errorf("argument size %d is not 1, 2, 4 or 8", sz)
	}
	if off != "" {
		v, err := strconv.ParseInt(off, 10, 64)
		if err != nil {
			return a, fmt.Errorf("offset %s: %w", off, err)
		}
		a.ValOff = uint64(v)
	}
	return a, nil
}

// USDTSpecs fills an object's libbpf USDT spec map: each probe site gets an
// id, its argument specs go into the map at that id, and the id is the BPF
// cookie of the site's uprobe, where bpf_usdt_arg() finds it. The layout of
// the map's value is read from its BTF, so objects built with any libbpf
// version that keeps the field names work.
type USDTSpecs struct {
	m      *ebpf.Map
	layout usdtSpecLayout

	mu   sync.Mutex
	next uint32
}

// usdtSpecLayout is where the fields of struct __bpf_usdt_spec are. The
// spec's usdt_cookie (libbpf's per-attachment user cookie) stays 0.
type usdtSpecLayout struct {
	size                             int
	args                             field // args[0]
	argSize                          int   // the stride of args[]
	maxArgs                          int
	valOff, kind, regOff, signed, bs field // within one args[] element
	argCnt                           field
}

// field is a struct member: its byte offset and size.
type field struct{ off, size int }

// NewUSDTSpecs returns the spec writer for m, whose value type, from the
// object's BTF, is libbpf's struct __bpf_usdt_spec.
func NewUSDTSpecs(m *ebpf.Map, value btf.Type) (*USDTSpecs, error) {
	l, err := readUSDTSpecLayout(value)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", USDTSpecsMap, err)
	}
	if l.size != int(m.ValueSize()) {
		return nil, fmt.Errorf("map %s: value is %d bytes, its BTF type %d", USDTSpecsMap, m.ValueSize(), l.size)
	}
	return &USDTSpecs{m: m, layout: l}, nil
}

func readUSDTSpecLayout(value btf.Type) (usdtSpecLayout, error) {
	var l usdtSpecLayout
	spec, ok := btf.UnderlyingType(value).(*btf.Struct)
	if !ok {
		return l, fmt.Errorf("value type %v is not libbpf's struct __bpf_usdt_spec", value)
	}
	l.size = int(spec.Size)
	var errs []error
	l.args = findField(spec, "args", &errs)
	l.argCnt = findField(spec, "arg_cnt", &errs)
	if len(errs) > 0 {
		return l, errors.Join(errs...)
	}
	var arr *btf.Array
	for _, m := range spec.Members {
		if m.Name == "args" {
			arr, _ = btf.UnderlyingType(m.Type).(*btf.Array)
		}
	}
	var arg *btf.Struct
	if arr != nil {
		arg, _ = btf.UnderlyingType(arr.Type).(*btf.Struct)
	}
	if arg == nil {
		return l, fmt.Errorf("struct %s: args is not an array of structs", spec.Name)
	}
	l.maxArgs, l.argSize = int(arr.Nelems), int(arg.Size)
	l.valOff = findField(arg, "val_off", &errs)
	l.kind = findField(arg, "arg_type", &errs)
	l.regOff = findField(arg, "reg_off", &errs)
	l.signed = findField(arg, "arg_signed", &errs)
	l.bs = findField(arg, "arg_bitshift", &errs)
	// The map value is written at these offsets: a BTF that puts them
	// outside their struct is an error, not a panic.
	for _, f := range []field{l.valOff, l.kind, l.regOff, l.signed, l.bs} {
		if f.off < 0 || f.off+f.size > l.argSize {
			errs = append(errs, fmt.Errorf("struct %s: a field at byte %d (%d bytes) is outside its %d bytes", arg.Name, f.off, f.size, l.argSize))
		}
	}
	if l.args.off < 0 || l.args.off+l.maxArgs*l.argSize > l.size || l.argCnt.off < 0 || l.argCnt.off+l.argCnt.size > l.size {
		errs = append(errs, fmt.Errorf("struct %s: args or arg_cnt outside its %d bytes", spec.Name, l.size))
	}
	return l, errors.Join(errs...)
}

// findField returns where member name of s is, appending to errs when s
// has no such member or it is a bitfield that is not whole bytes.
func findField(s *btf.Struct, name string, errs *[]error) field {
	for _, m := range s.Members {
		if m.Name != name {
			continue
		}
		if m.BitfieldSize > 0 {
			if m.BitfieldSize%8 != 0 || m.Offset%8 != 0 {
				*errs = append(*errs, fmt.Errorf("%s.%s is a %d-bit field at bit %d: not byte-aligned", s.Name, name, m.BitfieldSize, m.Offset))
			}
			return field{int(m.Offset.Bytes()), int(m.BitfieldSize / 8)}
		}
		size, err := btf.Sizeof(m.Type)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("%s.%s: %w", s.Name, name, err))
		}
		return field{int(m.Offset.Bytes()), size}
	}
	*errs = append(*errs, fmt.Errorf("struct %s has no field %s", s.Name, name))
	return field{}
}

// put writes v into buf at f, in the host's byte order.
func (f field) put(buf []byte, v uint64) {
	b := buf[f.off : f.off+f.size]
	switch f.size {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.NativeEndian.PutUint16(b, uint16(v))
	case 4:
		binary.NativeEndian.PutUint32(b, uint32(v))
	case 8:
		binary.NativeEndian.PutUint64(b, v)
	}
}

// encode returns the map value for a probe site with these arguments.
func (l *usdtSpecLayout) encode(args []usdtArg) ([]byte, error) {
	if len(args) > l.maxArgs {
		return nil, fmt.Errorf("%d arguments, the object's spec holds %d", len(args), l.maxArgs)
	}
	buf := make([]byte, l.size)
	for i, a := range args {
		el := buf[l.args.off+i*l.argSize:]
		l.valOff.put(el, a.ValOff)
		l.kind.put(el, uint64(a.Kind))
		l.regOff.put(el, uint64(a.RegOff))
		if a.Signed {
			l.signed.put(el, 1)
		}
		l.bs.put(el, uint64(a.BitShift))
	}
	l.argCnt.put(buf, uint64(len(args)))
	return buf, nil
}

// add stores the spec of one probe site and returns its id.
func (s *USDTSpecs) add(args []usdtArg) (uint32, error) {
	value, err := s.layout.encode(args)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next >= s.m.MaxEntries() {
		return 0, fmt.Errorf("map %s is full (%d probe sites; libbpf's BPF_USDT_MAX_SPEC_CNT sets its size)", USDTSpecsMap, s.m.MaxEntries())
	}
	id := s.next
	if err := s.m.Put(id, value); err != nil {
		return 0, fmt.Errorf("map %s: storing spec %d: %w", USDTSpecsMap, id, err)
	}
	s.next++
	return id, nil
}
