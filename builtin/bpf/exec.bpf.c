// SPDX-License-Identifier: GPL-2.0
/* exec: successful execve/execveat calls (process image starts), per CPU. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
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

SEC("tracepoint/sched/sched_process_exec")
int sched_process_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	u32 cpu = bpf_get_smp_processor_id();

	increment_map(&exec_total, &cpu, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
