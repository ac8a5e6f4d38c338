// SPDX-License-Identifier: GPL-2.0
/* bio-size: block request sizes at issue, by device and op. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"
#include "block.bpf.h"

#define SIZE_BUCKET_MAX 32 /* 4 GiB */

struct hist_key {
	u32 dev;
	u32 op;
	u64 bucket;
};

/* devices x 5 ops x 34 keys (33 buckets + sum): room for 48 busy devices. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct hist_key);
	__type(value, u64);
} bio_size_bytes SEC(".maps");

static __always_inline void on_issue(u32 dev, u32 nr_sector, u32 op)
{
	struct hist_key key = {};

	key.dev = encode_dev(dev);
	key.op = op;
	observe_exp2(increment_map, &bio_size_bytes, &key, &key.bucket,
		     (u64)nr_sector << 9, SIZE_BUCKET_MAX);
}

/*
 * Two forms of the hook, grouped by program_alternatives in bio-size.yaml;
 * the loader runs the first that loads and attaches. Both pass what the
 * tracepoint records: dev, nr_sector and the operation of its rwbs.
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
	on_issue(rq_dev(rq), rq_trace_nr_sectors(rq), rq_op(rq));
	return 0;
}

/* The fallback: the classic tracepoint, for kernels without tp_btf. */
SEC("tracepoint/block/block_rq_issue")
int block_rq_issue_tp(struct trace_event_raw_block_rq *ctx)
{
	char c, n;

	read_rwbs(ctx, c, n);
	on_issue(ctx->dev, ctx->nr_sector, rwbs_op(c, n));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
