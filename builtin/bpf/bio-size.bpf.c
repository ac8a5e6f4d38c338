// SPDX-License-Identifier: GPL-2.0
/* bio-size: block request sizes at issue, by device and op. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
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

SEC("tracepoint/block/block_rq_issue")
int block_rq_issue(struct trace_event_raw_block_rq *ctx)
{
	struct hist_key key = {};
	u64 bytes = (u64)ctx->nr_sector << 9;
	char c, n;

	key.dev = encode_dev(ctx->dev);
	read_rwbs(ctx, c, n);
	key.op = rwbs_op(c, n);
	observe_exp2(increment_map, &bio_size_bytes, &key, &key.bucket, bytes,
		     SIZE_BUCKET_MAX);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
