#!/bin/sh
# Rebuilds the committed BPF test objects. Reproducible: run it twice and
# the objects are byte-identical (DWARF is stripped; BTF stays).
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
STRIP=${STRIP:-llvm-strip-19}
ARCH_INCLUDE=/usr/include/$(uname -m)-linux-gnu
for src in *.bpf.c; do
	obj=${src%.c}.o
	"$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_x86 -I. -I"$ARCH_INCLUDE" \
		-fdebug-prefix-map="$PWD"=. -c "$src" -o "$obj"
	"$STRIP" --strip-debug "$obj"
done
