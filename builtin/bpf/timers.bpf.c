// SPDX-License-Identifier: GPL-2.0
/* timers: kernel timers started, by callback function. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"

/* One key per timer callback function; a kernel has a few hundred. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, u64);
	__type(value, u64);
} timer_starts_total SEC(".maps");

/* Minimal CO-RE view of struct timer_list (see generate.sh on why). */
struct timer_list___timers {
	void *function;
} __attribute__((preserve_access_index));

static __always_inline void count(u64 function)
{
	increment_percpu(&timer_starts_total, &function, 1);
}

/*
 * Two forms of the hook, grouped by program_alternatives in timers.yaml;
 * the loader runs the first that loads and attaches. Both count
 * timer->function, which is what the tracepoint records.
 *
 * tp_btf (BTF-typed raw tracepoint, Linux 5.5+) first: it reads its
 * arguments straight from the tracepoint call, without the perf trace record
 * a classic tracepoint fills, and it is only skipped when this same program
 * is already running on the CPU. A classic tracepoint program is skipped
 * whenever any kprobe, perf event or classic tracepoint program runs on the
 * CPU (a recursion miss).
 */
SEC("tp_btf/timer_start")
int BPF_PROG(timer_start_btf, struct timer_list___timers *timer)
{
	count((u64)timer->function);
	return 0;
}

/* The fallback: the classic tracepoint, for kernels without tp_btf. */
SEC("tracepoint/timer/timer_start")
int timer_start_tp(struct trace_event_raw_timer_start *ctx)
{
	count((u64)ctx->function);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
