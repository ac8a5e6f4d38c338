#!/bin/sh
# Rebuilds the test BPF objects. Needs clang-19; uses the committed vmlinux.h
# of the built-ins so the output is reproducible.
set -eu
cd "$(dirname "$0")"
for src in *.bpf.c; do
	obj="${src%.c}.o"
	clang-19 -g -O2 -target bpf -D__TARGET_ARCH_x86 -mcpu=v3 \
		-I ../../builtin/bpf -I "/usr/include/$(uname -m)-linux-gnu" \
		-fdebug-prefix-map="$PWD"=. -c "$src" -o "$obj"
	llvm-strip-19 --strip-debug "$obj"
done
