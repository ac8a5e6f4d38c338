// SPDX-License-Identifier: GPL-2.0
/* tcp-connect: active TCP connect latency, SYN_SENT to ESTABLISHED. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
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

/*
 * Minimal CO-RE view of struct sock (see generate.sh on why). sk_protocol
 * is a u16 since Linux 5.6 (a bitfield before).
 */
struct sock___connect {
	u16 sk_protocol;
} __attribute__((preserve_access_index));

static __always_inline void on_state(u64 sk, u16 protocol, int oldstate, int newstate)
{
	u64 *tsp, ts, delta, bucket;

	if (protocol != IPPROTO_TCP_)
		return;

	if (newstate == TCP_SYN_SENT_) {
		ts = bpf_ktime_get_ns();
		bpf_map_update_elem(&start, &sk, &ts, BPF_ANY);
		return;
	}
	if (oldstate != TCP_SYN_SENT_)
		return;

	tsp = bpf_map_lookup_elem(&start, &sk);
	if (!tsp)
		return;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &sk);
	/* Failed connects (SYN_SENT -> CLOSE) are not observed. */
	if (newstate != TCP_ESTABLISHED_)
		return;

	observe_exp2(increment_map, &tcp_connect_latency_seconds, &bucket, &bucket,
		     ns_to_units(delta), TIME_BUCKET_MAX);
}

/*
 * Two forms of the hook, grouped by program_alternatives in tcp-connect.yaml;
 * the loader runs the first that loads and attaches. Both pass what the
 * tracepoint records: the socket's address, sk->sk_protocol and the old and
 * new states.
 *
 * tp_btf (BTF-typed raw tracepoint, Linux 5.5+) first: it reads its
 * arguments straight from the tracepoint call, without the perf trace record
 * a classic tracepoint fills, and it is only skipped when this same program
 * is already running on the CPU. A classic tracepoint program is skipped
 * whenever any kprobe, perf event or classic tracepoint program runs on the
 * CPU (a recursion miss): the SYN-ACK that completes a connect is received
 * in the network softirq, which may interrupt one.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state_btf, struct sock___connect *sk, int oldstate, int newstate)
{
	on_state((u64)sk, sk->sk_protocol, oldstate, newstate);
	return 0;
}

/* The fallback: the classic tracepoint, for kernels without tp_btf. */
SEC("tracepoint/sock/inet_sock_set_state")
int inet_sock_set_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	on_state((u64)ctx->skaddr, ctx->protocol, ctx->oldstate, ctx->newstate);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
