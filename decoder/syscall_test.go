package decoder

import "testing"

func TestSyscallAmd64(t *testing.T) {
	runDecodeCases(t, &Syscall{Arch: "amd64"}, []decodeCase{
		{name: "read", in: []byte("0"), out: "read"},
		{name: "write", in: []byte("1"), out: "write"},
		{name: "execve", in: []byte("59"), out: "execve"},
		{name: "exit_group", in: []byte("231"), out: "exit_group"},
		{name: "newfstatat", in: []byte("262"), out: "newfstatat"},
		{name: "clone3", in: []byte("435"), out: "clone3"},
		{name: "mseal", in: []byte("462"), out: "mseal"},
		{name: "gap", in: []byte("387"), out: "unknown_syscall:387"},
		{name: "unknown", in: []byte("100000"), out: "unknown_syscall:100000"},
		{name: "negative", in: []byte("-1"), err: "not a decimal unsigned integer"},
		{name: "raw", in: []byte{0, 0, 0, 0}, err: "not a decimal unsigned integer"},
	})
}

func TestSyscallArm64(t *testing.T) {
	runDecodeCases(t, &Syscall{Arch: "arm64"}, []decodeCase{
		{name: "io_setup", in: []byte("0"), out: "io_setup"},
		{name: "openat", in: []byte("56"), out: "openat"},
		{name: "read", in: []byte("63"), out: "read"},
		{name: "newfstatat", in: []byte("79"), out: "newfstatat"},
		{name: "execve", in: []byte("221"), out: "execve"},
		{name: "clone3", in: []byte("435"), out: "clone3"},
		{name: "unknown", in: []byte("1000"), out: "unknown_syscall:1000"},
	})
}

func TestSyscallArch(t *testing.T) {
	runDecodeCases(t, &Syscall{Arch: "mips"}, []decodeCase{
		{name: "no table", in: []byte("0"), err: `no syscall table for architecture "mips"`},
	})
}

func TestSyscallTablesComplete(t *testing.T) {
	// x86_64 numbers 0..334 are contiguous, then 424.. after the gap.
	for n := uint64(0); n <= 334; n++ {
		if syscallsAmd64[n] == "" {
			t.Errorf("amd64 syscall %d missing", n)
		}
	}
	for n := uint64(424); n <= 462; n++ {
		if syscallsAmd64[n] == "" {
			t.Errorf("amd64 syscall %d missing", n)
		}
	}
	for n := uint64(0); n <= 292; n++ {
		if syscallsArm64[n] == "" && n != 244 && (n < 245 || n > 259) {
			t.Errorf("arm64 syscall %d missing", n)
		}
	}
}
