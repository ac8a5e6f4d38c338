// SPDX-License-Identifier: GPL-2.0
/* biolatency: block request latency, issue to completion, by device and op. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
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

static __always_inline void on_issue(u32 dev, u64 sector)
{
	struct start_key key = {};
	u64 ts = bpf_ktime_get_ns();

	key.dev = dev;
	key.sector = sector;
	bpf_map_update_elem(&start, &key, &ts, BPF_ANY);
}

static __always_inline void on_complete(u32 dev, u64 sector, u32 op)
{
	struct start_key skey = {};
	struct hist_key hkey = {};
	u64 *tsp, delta;

	skey.dev = dev;
	skey.sector = sector;
	tsp = bpf_map_lookup_elem(&start, &skey);
	if (!tsp)
		return;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &skey);

	hkey.dev = encode_dev(dev);
	hkey.op = op;
	observe_exp2(increment_map, &bio_latency_seconds, &hkey, &hkey.bucket,
		     ns_to_units(delta), TIME_BUCKET_MAX);
}

/*
 * Two forms of each hook, grouped by program_alternatives in
 * biolatency.yaml; the loader runs the first that loads and attaches. Both
 * pass what the tracepoints record: dev and sector (blk_rq_trace_sector at
 * issue, blk_rq_pos at completion), and at completion the operation of its
 * rwbs.
 *
 * tp_btf (BTF-typed raw tracepoint, Linux 5.5+) first: it is only skipped
 * when this same program is already running on the CPU, and it fills no perf
 * trace record. A classic tracepoint program is skipped whenever any kprobe,
 * perf event or classic tracepoint program runs on the CPU (a recursion
 * miss): completions run in interrupt or softirq context, which may
 * interrupt one.
 */
SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue_btf, struct request___block *rq)
{
	on_issue(rq_dev(rq), rq_trace_sector(rq));
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete_btf, struct request___block *rq)
{
	on_complete(rq_dev(rq), rq->__sector, rq_op(rq));
	return 0;
}

/* The fallback: classic tracepoints, for kernels without tp_btf. */
SEC("tracepoint/block/block_rq_issue")
int block_rq_issue_tp(struct trace_event_raw_block_rq *ctx)
{
	on_issue(ctx->dev, ctx->sector);
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int block_rq_complete_tp(struct trace_event_raw_block_rq_completion *ctx)
{
	char c, n;

	read_rwbs(ctx, c, n);
	on_complete(ctx->dev, ctx->sector, rwbs_op(c, n));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
