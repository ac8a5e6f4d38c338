// SPDX-License-Identifier: GPL-2.0
/* softirqs: softirq handler runs and their run time, by kind. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
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

SEC("tracepoint/irq/softirq_entry")
int softirq_entry(struct trace_event_raw_softirq *ctx)
{
	u32 kind = ctx->vec;
	u32 zero = 0;
	u64 *ts;

	increment_percpu(&softirqs_total, &kind, 1);
	ts = bpf_map_lookup_elem(&entry_ts, &zero);
	if (ts)
		*ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tracepoint/irq/softirq_exit")
int softirq_exit(struct trace_event_raw_softirq *ctx)
{
	struct hist_key key = {};
	u32 zero = 0;
	u64 *ts, delta;

	ts = bpf_map_lookup_elem(&entry_ts, &zero);
	if (!ts || *ts == 0)
		return 0; /* attached while a handler ran */
	delta = bpf_ktime_get_ns() - *ts;
	*ts = 0;

	key.kind = ctx->vec;
	observe_exp2(increment_percpu, &softirq_latency_seconds, &key, &key.bucket,
		     ns_to_units(delta), TIME_BUCKET_MAX);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
