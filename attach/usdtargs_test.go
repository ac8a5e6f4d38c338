package attach

import (
	"debug/elf"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

func TestParseUSDTArgsX86(t *testing.T) {
	// The arguments gcc wrote for test/testdata/target.c's hxtest:args,
	// and the other forms libbpf reads.
	got, err := parseUSDTArgs("-8@%rcx -2@%dx -4@$7 -4@12(%rsp) 8@(%rbp) 1@%sil 4@-20(%r12) -8@$-9", elf.EM_X86_64)
	if err != nil {
		t.Fatal(err)
	}
	want := []usdtArg{
		{Kind: usdtArgReg, RegOff: 88, Signed: true, BitShift: 0},
		{Kind: usdtArgReg, RegOff: 96, Signed: true, BitShift: 48},
		{Kind: usdtArgConst, ValOff: 7, Signed: true, BitShift: 32},
		{Kind: usdtArgRegDeref, ValOff: 12, RegOff: 152, Signed: true, BitShift: 32},
		{Kind: usdtArgRegDeref, RegOff: 32, BitShift: 0},
		{Kind: usdtArgReg, RegOff: 104, BitShift: 56},
		{Kind: usdtArgRegDeref, ValOff: uint64(1<<64 - 20), RegOff: 24, BitShift: 32},
		{Kind: usdtArgConst, ValOff: uint64(1<<64 - 9), Signed: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseUSDTArgsArm64(t *testing.T) {
	got, err := parseUSDTArgs("-4@[sp, 16] 8@x0 -4@w3 4@5 8@[x29]  -8@[x1, -8]", elf.EM_AARCH64)
	if err != nil {
		t.Fatal(err)
	}
	want := []usdtArg{
		{Kind: usdtArgRegDeref, ValOff: 16, RegOff: 248, Signed: true, BitShift: 32},
		{Kind: usdtArgReg, RegOff: 0},
		{Kind: usdtArgReg, RegOff: 24, Signed: true, BitShift: 32},
		{Kind: usdtArgConst, ValOff: 5, BitShift: 32},
		{Kind: usdtArgRegDeref, RegOff: 232},
		{Kind: usdtArgRegDeref, ValOff: uint64(1<<64 - 8), RegOff: 8, Signed: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseUSDTArgsEmpty(t *testing.T) {
	got, err := parseUSDTArgs("", elf.EM_X86_64)
	if err != nil || len(got) != 0 {
		t.Errorf("no arguments: got %v, %v", got, err)
	}
}

func TestParseUSDTArgsErrors(t *testing.T) {
	for _, c := range []struct {
		args    string
		machine elf.Machine
		want    string
	}{
		{"8@hx_global(%rip)", elf.EM_X86_64, `argument 0 "8@hx_global(%rip)": not a USDT argument spec`},
		{"8@-8(%rbp,%rax,8)", elf.EM_X86_64, "not a USDT argument spec"},
		{"-4@%edi 3@%eax", elf.EM_X86_64, "argument 1 \"3@%eax\": argument size 3 is not 1, 2, 4 or 8"},
		{"8@%xmm0", elf.EM_X86_64, "unknown x86_64 register xmm0"},
		{"8@x31", elf.EM_AARCH64, "unknown arm64 register x31"},
		{"8@%rax", elf.EM_RISCV, "USDT arguments of EM_RISCV binaries are not supported"},
		{strings.Repeat("8@%rax ", 13), elf.EM_X86_64, "13 arguments, at most 12"},
	} {
		_, err := parseUSDTArgs(c.args, c.machine)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error containing %q", c.args, err, c.want)
		}
	}
}

// libbpf 1.1's struct __bpf_usdt_spec (Debian 12's libbpf-dev).
func usdtSpecType11() *btf.Struct {
	u64 := &btf.Int{Name: "__u64", Size: 8}
	arg := &btf.Struct{Name: "__bpf_usdt_arg_spec", Size: 16, Members: []btf.Member{
		{Name: "val_off", Type: u64, Offset: 0},
		{Name: "arg_type", Type: &btf.Enum{Name: "__bpf_usdt_arg_type", Size: 4}, Offset: 64},
		{Name: "reg_off", Type: &btf.Int{Name: "short", Size: 2, Encoding: btf.Signed}, Offset: 96},
		{Name: "arg_signed", Type: &btf.Int{Name: "bool", Size: 1, Encoding: btf.Bool}, Offset: 112},
		{Name: "arg_bitshift", Type: &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed}, Offset: 120},
	}}
	return &btf.Struct{Name: "__bpf_usdt_spec", Size: 208, Members: []btf.Member{
		{Name: "args", Type: &btf.Array{Type: arg, Nelems: 12}, Offset: 0},
		{Name: "usdt_cookie", Type: u64, Offset: 192 * 8},
		{Name: "arg_cnt", Type: &btf.Int{Name: "short", Size: 2, Encoding: btf.Signed}, Offset: 200 * 8},
	}}
}

// Later libbpf versions make arg_type an 8-bit bitfield, beside the SIB
// fields, keeping the other offsets.
func usdtSpecTypeSIB() *btf.Struct {
	s := usdtSpecType11()
	arg := btf.UnderlyingType(s.Members[0].Type.(*btf.Array).Type).(*btf.Struct)
	u16 := &btf.Int{Name: "__u16", Size: 2}
	arg.Members = []btf.Member{
		arg.Members[0],
		{Name: "arg_type", Type: arg.Members[1].Type, Offset: 64, BitfieldSize: 8},
		{Name: "idx_reg_off", Type: u16, Offset: 72, BitfieldSize: 12},
		{Name: "scale_bitshift", Type: u16, Offset: 84, BitfieldSize: 4},
		{Name: "__reserved", Type: &btf.Int{Name: "__u8", Size: 1}, Offset: 88, BitfieldSize: 8},
		arg.Members[2], arg.Members[3], arg.Members[4],
	}
	return s
}

func TestUSDTSpecEncode(t *testing.T) {
	args := []usdtArg{
		{Kind: usdtArgReg, RegOff: 96, Signed: true, BitShift: 48},
		{Kind: usdtArgRegDeref, ValOff: uint64(1<<64 - 20), RegOff: 32, BitShift: 32},
	}
	// What libbpf 1.1 stores for these two arguments, byte by byte.
	want := make([]byte, 208)
	binary.NativeEndian.PutUint32(want[8:], 1) // args[0].arg_type = REG
	binary.NativeEndian.PutUint16(want[12:], 96)
	want[14], want[15] = 1, 48
	binary.NativeEndian.PutUint64(want[16:], uint64(1<<64-20))
	binary.NativeEndian.PutUint32(want[24:], 2) // args[1].arg_type = REG_DEREF
	binary.NativeEndian.PutUint16(want[28:], 32)
	want[30], want[31] = 0, 32
	binary.NativeEndian.PutUint16(want[200:], 2) // arg_cnt

	for name, typ := range map[string]*btf.Struct{"libbpf 1.1": usdtSpecType11(), "bitfield arg_type": usdtSpecTypeSIB()} {
		l, err := readUSDTSpecLayout(typ)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := l.encode(args)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", name, got, want)
		}
		if _, err := l.encode(make([]usdtArg, 13)); err == nil {
			t.Errorf("%s: 13 arguments encoded", name)
		}
	}
}

func TestUSDTSpecLayoutOfObject(t *testing.T) {
	// The spec type as clang wrote it into a test object from usdt.bpf.h.
	spec, err := btf.LoadSpec("../test/testdata/usdtargs.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	var s *btf.Struct
	if err := spec.TypeByName("__bpf_usdt_spec", &s); err != nil {
		t.Fatal(err)
	}
	got, err := readUSDTSpecLayout(s)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := readUSDTSpecLayout(usdtSpecType11())
	if got != want {
		t.Errorf("layout of the object's type %+v, want libbpf 1.1's %+v", got, want)
	}
}

func TestUSDTSpecLayoutErrors(t *testing.T) {
	s := usdtSpecType11()
	s.Members = s.Members[:2] // no arg_cnt
	if _, err := readUSDTSpecLayout(s); err == nil || !strings.Contains(err.Error(), "no field arg_cnt") {
		t.Errorf("missing arg_cnt: %v", err)
	}
	if _, err := readUSDTSpecLayout(&btf.Int{Size: 4}); err == nil {
		t.Error("an int accepted as the spec type")
	}
	s = usdtSpecType11()
	s.Size = 100 // args[12] of 16 bytes do not fit
	if _, err := readUSDTSpecLayout(s); err == nil || !strings.Contains(err.Error(), "outside its 100 bytes") {
		t.Errorf("args outside the struct: %v", err)
	}
	s = usdtSpecTypeSIB()
	arg := btf.UnderlyingType(s.Members[0].Type.(*btf.Array).Type).(*btf.Struct)
	arg.Members[len(arg.Members)-1].Offset = 200 * 8 // arg_bitshift far past the element
	if _, err := readUSDTSpecLayout(s); err == nil || !strings.Contains(err.Error(), "outside its 16 bytes") {
		t.Errorf("a field outside its struct: %v", err)
	}
}

func TestSplitUSDTArgs(t *testing.T) {
	got := splitUSDTArgs("  -4@[sp, 16]\t8@x0  -4@[x1,  -8] ")
	want := []string{"-4@[sp, 16]", "8@x0", "-4@[x1,  -8]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// FuzzParseUSDTArgs checks that no argument string (they come from the
// binaries a config names) panics the parser or yields an argument libbpf's
// code would misread.
func FuzzParseUSDTArgs(f *testing.F) {
	f.Add("-8@%rcx -2@%dx -4@$7 -4@12(%rsp)", true)
	f.Add("-4@[sp, 16] 8@x0 4@5", false)
	f.Fuzz(func(t *testing.T, s string, x86 bool) {
		machine := elf.EM_AARCH64
		if x86 {
			machine = elf.EM_X86_64
		}
		args, err := parseUSDTArgs(s, machine)
		if err != nil {
			return
		}
		if len(args) > maxUSDTArgs {
			t.Fatalf("%d arguments", len(args))
		}
		maxReg := int16(31 * 8) // arm64 sp
		if x86 {
			maxReg = 19 * 8 // rsp
		}
		for _, a := range args {
			if a.Kind > usdtArgRegDeref || a.BitShift%8 != 0 || a.BitShift > 56 || a.RegOff < 0 || a.RegOff > maxReg || a.RegOff%8 != 0 {
				t.Fatalf("%q: bad argument %+v", s, a)
			}
		}
	})
}
