// SPDX-License-Identifier: GPL-2.0
/* softirqs: softirq handler runs and their run time, by kind. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"

#define NR_SOFTIRQS_MAX 16 /* the kernel has 10 */

/* One key per softirq kind. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, NR_SOFTIRQS_MAX);
	__type(key, u32);
	__type(value, u64);
} softirqs_total SEC(".maps");

struct hist_key {
	u32 kind;
	u32 pad;
	u64 bucket;
};

/* 10 kinds x 38 keys (37 buckets + sum). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, NR_SOFTIRQS_MAX * (TIME_BUCKET_MAX + 2));
	__type(key, struct hist_key);
	__type(value, u64);
} softirq_latency_seconds SEC(".maps");

/*
 * Entry time of the softirq handler running on this CPU. Handlers do not
 * nest on one CPU (softirqs run with bottom halves disabled), so one slot
 * per CPU is enough.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} entry_ts SEC(".maps");

static __always_inline void on_entry(u32 kind)
{
	u32 zero = 0;
	u64 *ts;

	increment_percpu(&softirqs_total, &kind, 1);
	ts = bpf_map_lookup_elem(&entry_ts, &zero);
	if (ts)
		*ts = bpf_ktime_get_ns();
}

static __always_inline void on_exit(u32 kind)
{
	struct hist_key key = {};
	u32 zero = 0;
	u64 *ts, delta;

	ts = bpf_map_lookup_elem(&entry_ts, &zero);
	if (!ts || *ts == 0)
		return; /* attached while a handler ran */
	delta = bpf_ktime_get_ns() - *ts;
	*ts = 0;

	key.kind = kind;
	observe_exp2(increment_percpu, &softirq_latency_seconds, &key, &key.bucket,
		     ns_to_units(delta), TIME_BUCKET_MAX);
}

/*
 * Two forms of each hook, grouped by program_alternatives in softirqs.yaml;
 * the loader runs the first that loads and attaches. Both pass the same
 * softirq number (vec_nr) to the same body.
 *
 * tp_btf (BTF-typed raw tracepoint, Linux 5.5+) first: it reads its argument
 * straight from the tracepoint call, without the perf trace record a classic
 * tracepoint fills, and it is only skipped when this same program is already
 * running on the CPU. Classic tracepoint programs are skipped whenever any
 * kprobe, perf event or classic tracepoint program runs on the CPU, which a
 * softirq arriving in the middle of one makes common (recursion misses).
 */
SEC("tp_btf/softirq_entry")
int BPF_PROG(softirq_entry_btf, unsigned int vec_nr)
{
	on_entry(vec_nr);
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(softirq_exit_btf, unsigned int vec_nr)
{
	on_exit(vec_nr);
	return 0;
}

/* The fallback: classic tracepoints, for kernels without tp_btf. */
SEC("tracepoint/irq/softirq_entry")
int softirq_entry_tp(struct trace_event_raw_softirq *ctx)
{
	on_entry(ctx->vec);
	return 0;
}

SEC("tracepoint/irq/softirq_exit")
int softirq_exit_tp(struct trace_event_raw_softirq *ctx)
{
	on_exit(ctx->vec);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
