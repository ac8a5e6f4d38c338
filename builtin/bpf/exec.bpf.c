// SPDX-License-Identifier: GPL-2.0
/* exec: successful execve/execveat calls (process image starts), per CPU. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"

#define MAX_CPUS 1024

/*
 * Keyed by CPU: a map key needs at least one label, and the CPU is bounded,
 * cheap (each CPU updates its own key, so no cache line bounces between
 * CPUs) and harmless to sum away: sum without (cpu) (...).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_CPUS);
	__type(key, u32);
	__type(value, u64);
} exec_total SEC(".maps");

static __always_inline void count(void)
{
	u32 cpu = bpf_get_smp_processor_id();

	increment_map(&exec_total, &cpu, 1);
}

/*
 * Two forms of the hook, grouped by program_alternatives in exec.yaml; the
 * loader runs the first that loads and attaches. Neither reads an argument.
 *
 * tp_btf (BTF-typed raw tracepoint, Linux 5.5+) first: it reads its
 * arguments straight from the tracepoint call, without the perf trace record
 * a classic tracepoint fills, and it is only skipped when this same program
 * is already running on the CPU. A classic tracepoint program is skipped
 * whenever any kprobe, perf event or classic tracepoint program runs on the
 * CPU (a recursion miss).
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec_btf)
{
	count();
	return 0;
}

/* The fallback: the classic tracepoint, for kernels without tp_btf. */
SEC("tracepoint/sched/sched_process_exec")
int sched_process_exec_tp(struct trace_event_raw_sched_process_exec *ctx)
{
	count();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
