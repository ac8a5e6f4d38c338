package declarative

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// vtype is the type of an expression.
type vtype struct {
	str    bool // a string or byte array, kept in a stack buffer
	size   int  // bytes: 1, 2, 4 or 8 for integers; the buffer size for strings
	signed bool
	char   bool // a C string (char array): default decoder string, else hex
	btf    btf.Type
}

var u64 = vtype{size: 8}

func (t vtype) String() string {
	switch {
	case t.str && t.char:
		return fmt.Sprintf("string (%d bytes)", t.size)
	case t.str:
		return fmt.Sprintf("byte array (%d bytes)", t.size)
	case t.signed:
		return fmt.Sprintf("s%d", t.size*8)
	}
	return fmt.Sprintf("u%d", t.size*8)
}

// leafKind says where a leaf value comes from.
type leafKind int

const (
	leafBuiltin leafKind = iota
	leafField            // tracepoint field at ctx+offset
	leafReg              // pt_regs register of a uprobe/kprobe
	leafArg              // raw_tp / tp_btf argument, possibly followed by member accesses
)

// access is one step of a BTF member chain: read the object at the
// pointer in the register plus off.
type access struct {
	off    uint32
	direct bool // a direct load (tp_btf struct pointer) instead of bpf_probe_read_kernel
}

// leaf is a resolved name: a built-in, a field, a register or an argument path.
type leaf struct {
	kind    leafKind
	builtin string
	field   tpField
	regOff  int16
	arg     int
	// derefs are the pointer loads before the final one: each reads a
	// pointer at register+off.
	derefs []access
	// final, when set, reads the value (or string) at register+final.off.
	final *access
	typ   vtype
}

// builtins and their types. retval, argN and elapsed depend on the probe.
var builtinTypes = map[string]vtype{
	"pid":    {size: 4},
	"tgid":   {size: 4},
	"tid":    {size: 4},
	"uid":    {size: 4},
	"gid":    {size: 4},
	"cpu":    {size: 4},
	"cgroup": {size: 8},
	"nsecs":  {size: 8},
	"comm":   {str: true, char: true, size: 16},
}

// x86_64 struct pt_regs offsets of the argument and return registers.
var regOffsets = map[string]int16{
	"arg0": 112, "arg1": 104, "arg2": 96, "arg3": 88, "arg4": 72, "arg5": 64, // di si dx cx r8 r9
	"retval": 80, // ax
}

// btfValueType is the vtype of a BTF integer, enum, pointer or char array.
func btfValueType(t btf.Type) (vtype, error) {
	u := btf.UnderlyingType(t)
	switch v := u.(type) {
	case *btf.Int:
		if v.Size > 8 || v.Size == 0 {
			return vtype{}, fmt.Errorf("integer type %s of %d bytes is not supported", v.Name, v.Size)
		}
		return vtype{size: int(v.Size), signed: v.Encoding&btf.Signed != 0, btf: t}, nil
	case *btf.Enum:
		return vtype{size: int(v.Size), signed: v.Signed, btf: t}, nil
	case *btf.Pointer:
		return vtype{size: 8, btf: t}, nil
	case *btf.Array:
		n, err := btf.Sizeof(v)
		if err != nil {
			return vtype{}, err
		}
		el, _ := btf.UnderlyingType(v.Type).(*btf.Int)
		return vtype{str: true, size: n, char: el != nil && el.Size == 1 && (el.Encoding&btf.Char != 0 || strings.Contains(el.Name, "char")), btf: t}, nil
	case *btf.Struct, *btf.Union:
		return vtype{size: 0, btf: t}, nil
	}
	return vtype{}, fmt.Errorf("type %s is not supported", typeName(t))
}

func typeName(t btf.Type) string {
	switch v := t.(type) {
	case *btf.Pointer:
		return typeName(v.Target) + " *"
	case *btf.Const:
		return "const " + typeName(v.Type)
	case *btf.Volatile:
		return typeName(v.Type)
	case *btf.Struct:
		return "struct " + v.Name
	case *btf.Union:
		return "union " + v.Name
	case *btf.Enum:
		return "enum " + v.Name
	case *btf.Array:
		return fmt.Sprintf("%s[%d]", typeName(v.Type), v.Nelems)
	case nil:
		return "void"
	}
	if n := t.TypeName(); n != "" {
		return n
	}
	return fmt.Sprintf("%T", t)
}

// findMember finds a member of a struct or union by name, looking into
// anonymous members, and returns its byte offset and type.
func findMember(t btf.Type, name string) (uint32, btf.Type, bool, error) {
	var members []btf.Member
	switch v := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		members = v.Members
	case *btf.Union:
		members = v.Members
	default:
		return 0, nil, false, nil
	}
	for _, m := range members {
		if m.Name == name {
			if m.BitfieldSize != 0 || m.Offset%8 != 0 {
				return 0, nil, true, fmt.Errorf("member %s is a bitfield, which is not supported", name)
			}
			return uint32(m.Offset / 8), m.Type, true, nil
		}
	}
	for _, m := range members {
		if m.Name == "" {
			off, typ, ok, err := findMember(m.Type, name)
			if ok || err != nil {
				return uint32(m.Offset/8) + off, typ, ok, err
			}
		}
	}
	return 0, nil, false, nil
}

// memberNames lists a struct's members for errors, at most 20.
func memberNames(t btf.Type) string {
	var names []string
	var walk func(btf.Type)
	walk = func(t btf.Type) {
		var members []btf.Member
		switch v := btf.UnderlyingType(t).(type) {
		case *btf.Struct:
			members = v.Members
		case *btf.Union:
			members = v.Members
		}
		for _, m := range members {
			if m.Name == "" {
				walk(m.Type)
			} else {
				names = append(names, m.Name)
			}
		}
	}
	walk(t)
	if len(names) > 20 {
		names = append(names[:20], "...")
	}
	return strings.Join(names, ", ")
}

// pointee is the struct or union a pointer type points to, or nil.
func pointee(t btf.Type) btf.Type {
	p, ok := btf.UnderlyingType(t).(*btf.Pointer)
	if !ok {
		return nil
	}
	switch btf.UnderlyingType(p.Target).(type) {
	case *btf.Struct, *btf.Union:
		return p.Target
	}
	return nil
}
