// SPDX-License-Identifier: GPL-2.0
/* page-faults: page faults taken, from user or kernel mode (x86 only). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"

#define FAULT_USER 0
#define FAULT_KERNEL 1

/* Two keys: user and kernel. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, u64);
} page_faults_total SEC(".maps");

static __always_inline void count(u32 type)
{
	increment_percpu(&page_faults_total, &type, 1);
}

/*
 * Two forms of each hook, grouped by program_alternatives in
 * page-faults.yaml; the loader runs the first that loads and attaches.
 * Neither reads an argument.
 *
 * tp_btf (BTF-typed raw tracepoint, Linux 5.5+) first: it reads its
 * arguments straight from the tracepoint call, without the perf trace record
 * a classic tracepoint fills, and it is only skipped when this same program
 * is already running on the CPU. A classic tracepoint program is skipped
 * whenever any kprobe, perf event or classic tracepoint program runs on the
 * CPU (a recursion miss). On the hottest
 * events there are, skipping the perf trace record also saves most of the
 * hook's cost.
 */
SEC("tp_btf/page_fault_user")
int BPF_PROG(page_fault_user_btf)
{
	count(FAULT_USER);
	return 0;
}

SEC("tp_btf/page_fault_kernel")
int BPF_PROG(page_fault_kernel_btf)
{
	count(FAULT_KERNEL);
	return 0;
}

/* The fallback: classic tracepoints, for kernels without tp_btf. */
SEC("tracepoint/exceptions/page_fault_user")
int page_fault_user_tp(struct trace_event_raw_exceptions *ctx)
{
	count(FAULT_USER);
	return 0;
}

SEC("tracepoint/exceptions/page_fault_kernel")
int page_fault_kernel_tp(struct trace_event_raw_exceptions *ctx)
{
	count(FAULT_KERNEL);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
