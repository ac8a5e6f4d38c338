#!/bin/sh
# Compiles every built-in BPF program, bpf/NAME.bpf.c, into the committed CO-RE
# object configs/NAME.bpf.o, so `go build` needs no clang.
#
# Reproducible: the compiler runs inside bpf/ on relative paths, the
# working directory is mapped to "." in any remaining debug info, and DWARF is
# stripped (--strip-debug keeps .BTF and .BTF.ext, which CO-RE needs). Run it
# twice, or in another checkout, and the objects are byte-identical. One catch:
# clang orders BTF forward declarations by memory address, so programs must not
# drag in full vmlinux.h structs like task_struct (their pointer members become
# forward declarations); they use small ___flavor CO-RE structs instead, and
# TestNoForwardDeclarations checks.
#
# bpf/vmlinux.h is committed; regenerate it only on purpose with
#   bpftool btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h
set -eu
cd "$(dirname "$0")/bpf"
CLANG=${CLANG:-clang-19}
STRIP=${STRIP:-llvm-strip-19}
ARCH_INCLUDE=/usr/include/$(uname -m)-linux-gnu
for src in *.bpf.c; do
	obj=../configs/${src%.c}.o
	"$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_x86 -mcpu=v3 -Wall -Werror \
		-I. -I"$ARCH_INCLUDE" \
		-ffile-prefix-map="$PWD"=. -fdebug-prefix-map="$PWD"=. \
		-c "$src" -o "$obj"
	"$STRIP" --strip-debug "$obj"
done
