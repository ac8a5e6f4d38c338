// SPDX-License-Identifier: GPL-2.0
/*
 * llcstat: last level cache references and misses per CPU, sampled from the
 * hardware PMU. Section names follow the reference exporter's llcstat example.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.bpf.h"

#define MAX_CPUS 1024

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_CPUS);
	__type(key, u32);
	__type(value, u64);
} llc_references_total SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_CPUS);
	__type(key, u32);
	__type(value, u64);
} llc_misses_total SEC(".maps");

/* Each sample stands for sample_period events on this CPU. */
static __always_inline int count_sample(void *map, struct bpf_perf_event_data *ctx)
{
	u32 cpu = bpf_get_smp_processor_id();

	increment_map(map, &cpu, ctx->sample_period);
	return 0;
}

/* PERF_TYPE_HARDWARE (0), PERF_COUNT_HW_CACHE_MISSES (3). */
SEC("perf_event/type=0,config=3,frequency=1")
int on_cache_miss(struct bpf_perf_event_data *ctx)
{
	return count_sample(&llc_misses_total, ctx);
}

/* PERF_TYPE_HARDWARE (0), PERF_COUNT_HW_CACHE_REFERENCES (2). */
SEC("perf_event/type=0,config=2,frequency=1")
int on_cache_reference(struct bpf_perf_event_data *ctx)
{
	return count_sample(&llc_references_total, ctx);
}

char LICENSE[] SEC("license") = "GPL";
