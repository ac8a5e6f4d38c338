#!/bin/sh
# Compiles bench.bpf.c, the hand-written twin of bench.yaml, with the
# built-ins' headers. Only the benchmark needs it; the object is committed.
set -eu
cd "$(dirname "$0")"
B=../../builtin/bpf
clang-19 -g -O2 -target bpf -D__TARGET_ARCH_x86 -mcpu=v3 -Wall -Werror \
	-I"$B" -I/usr/include/$(uname -m)-linux-gnu -c bench.bpf.c -o bench.bpf.o
llvm-strip-19 --strip-debug bench.bpf.o
