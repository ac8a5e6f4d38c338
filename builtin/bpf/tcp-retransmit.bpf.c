// SPDX-License-Identifier: GPL-2.0
/* tcp-retransmit: TCP segments retransmitted, by address family and state. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.bpf.h"

struct retransmit_key {
	u16 family;
	u16 state;
};

/* 2 families x 12 TCP states at most. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct retransmit_key);
	__type(value, u64);
} tcp_retransmits_total SEC(".maps");

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tcp_retransmit_skb(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	struct retransmit_key key = {};

	key.family = ctx->family;
	key.state = (u16)ctx->state;
	increment_map(&tcp_retransmits_total, &key, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
