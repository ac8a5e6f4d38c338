// SPDX-License-Identifier: GPL-2.0
/* tcp-retransmit: TCP segments retransmitted, by address family and state. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
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

/*
 * Minimal CO-RE views of struct sock: the loader matches them to the
 * kernel's types by name (the ___suffix is ignored) and relocates the field
 * offsets. They keep the object's BTF free of the forward declarations a
 * full struct sock drags in (see generate.sh).
 */
struct sock_common___retransmit {
	unsigned short skc_family;
	volatile unsigned char skc_state;
} __attribute__((preserve_access_index));

struct sock___retransmit {
	struct sock_common___retransmit __sk_common;
} __attribute__((preserve_access_index));

static __always_inline void count(u16 family, u16 state)
{
	struct retransmit_key key = {};

	key.family = family;
	key.state = state;
	increment_map(&tcp_retransmits_total, &key, 1);
}

/*
 * Two forms of the hook, grouped by program_alternatives in
 * tcp-retransmit.yaml; the loader runs the first that loads and attaches.
 *
 * tp_btf (BTF-typed raw tracepoint, Linux 5.5+) first: it reads its
 * arguments straight from the tracepoint call, without the perf trace record
 * a classic tracepoint fills, and it is only skipped when this same program
 * is already running on the CPU. A classic tracepoint program is skipped
 * whenever any kprobe, perf event or classic tracepoint program runs on the
 * CPU (a recursion miss): retransmits happen in the timer and
 * network softirqs, which often interrupt one.
 *
 * Both read what the tracepoint records: family = sk->sk_family,
 * state = sk->sk_state.
 */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit_skb_btf, struct sock___retransmit *sk)
{
	count(sk->__sk_common.skc_family, sk->__sk_common.skc_state);
	return 0;
}

/* The fallback: the classic tracepoint, for kernels without tp_btf. */
SEC("tracepoint/tcp/tcp_retransmit_skb")
int tcp_retransmit_skb_tp(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	count(ctx->family, (u16)ctx->state);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
