// SPDX-License-Identifier: GPL-2.0
/* biolatency: block request latency, issue to completion, by device and op. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.bpf.h"
#include "block.bpf.h"

/* A request in flight is identified by its device and start sector. */
struct start_key {
	u32 dev;
	u32 pad;
	u64 sector;
};

/*
 * Issue times of requests in flight. LRU: a request that never completes
 * (lost to a requeue or a device reset) is evicted instead of leaking.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct start_key);
	__type(value, u64);
} start SEC(".maps");

struct hist_key {
	u32 dev;
	u32 op;
	u64 bucket;
};

/* devices x 5 ops x 38 keys (37 buckets + sum): room for 43 busy devices. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct hist_key);
	__type(value, u64);
} bio_latency_seconds SEC(".maps");

SEC("tracepoint/block/block_rq_issue")
int block_rq_issue(struct trace_event_raw_block_rq *ctx)
{
	struct start_key key = {};
	u64 ts = bpf_ktime_get_ns();

	key.dev = ctx->dev;
	key.sector = ctx->sector;
	bpf_map_update_elem(&start, &key, &ts, BPF_ANY);
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int block_rq_complete(struct trace_event_raw_block_rq_completion *ctx)
{
	struct start_key skey = {};
	struct hist_key hkey = {};
	u64 *tsp, delta;
	char c, n;

	skey.dev = ctx->dev;
	skey.sector = ctx->sector;
	tsp = bpf_map_lookup_elem(&start, &skey);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &skey);

	hkey.dev = encode_dev(ctx->dev);
	read_rwbs(ctx, c, n);
	hkey.op = rwbs_op(c, n);
	observe_exp2(increment_map, &bio_latency_seconds, &hkey, &hkey.bucket,
		     ns_to_units(delta), TIME_BUCKET_MAX);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
