// SPDX-License-Identifier: GPL-2.0
/* tcp-connect: active TCP connect latency, SYN_SENT to ESTABLISHED. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.bpf.h"

#define IPPROTO_TCP_ 6
#define TCP_ESTABLISHED_ 1
#define TCP_SYN_SENT_ 2

/*
 * Connect start times by socket address. LRU: sockets that vanish without a
 * state change out of SYN_SENT are evicted instead of leaking.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, u64);
	__type(value, u64);
} start SEC(".maps");

/* 37 buckets + the sum key. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TIME_BUCKET_MAX + 2);
	__type(key, u64);
	__type(value, u64);
} tcp_connect_latency_seconds SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	u64 sk = (u64)ctx->skaddr;
	u64 *tsp, ts, delta, bucket;

	if (ctx->protocol != IPPROTO_TCP_)
		return 0;

	if (ctx->newstate == TCP_SYN_SENT_) {
		ts = bpf_ktime_get_ns();
		bpf_map_update_elem(&start, &sk, &ts, BPF_ANY);
		return 0;
	}
	if (ctx->oldstate != TCP_SYN_SENT_)
		return 0;

	tsp = bpf_map_lookup_elem(&start, &sk);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &sk);
	/* Failed connects (SYN_SENT -> CLOSE) are not observed. */
	if (ctx->newstate != TCP_ESTABLISHED_)
		return 0;

	observe_exp2(increment_map, &tcp_connect_latency_seconds, &bucket, &bucket,
		     ns_to_units(delta), TIME_BUCKET_MAX);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
