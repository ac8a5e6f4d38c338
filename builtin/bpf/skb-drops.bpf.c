// SPDX-License-Identifier: GPL-2.0
/* skb-drops: packets (sk_buffs) dropped by the kernel, by drop reason. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"

/*
 * One key per enum skb_drop_reason value seen: about 120 core reasons plus
 * subsystem ones (mac80211, openvswitch) in the high 16 bits.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 512);
	__type(key, u32);
	__type(value, u64);
} skb_drops_total SEC(".maps");

static __always_inline void count(u32 reason)
{
	increment_percpu(&skb_drops_total, &reason, 1);
}

/*
 * Two forms of the hook, grouped by program_alternatives in skb-drops.yaml;
 * the loader runs the first that loads and attaches. Both count the drop
 * reason the tracepoint passes (its third argument since Linux 5.17).
 *
 * tp_btf (BTF-typed raw tracepoint, Linux 5.5+) first: it reads its
 * arguments straight from the tracepoint call, without the perf trace record
 * a classic tracepoint fills, and it is only skipped when this same program
 * is already running on the CPU. A classic tracepoint program is skipped
 * whenever any kprobe, perf event or classic tracepoint program runs on the
 * CPU (a recursion miss): packets are dropped in the network softirqs.
 */
SEC("tp_btf/kfree_skb")
int BPF_PROG(kfree_skb_btf, void *skb, void *location, enum skb_drop_reason reason)
{
	count((u32)reason);
	return 0;
}

/* The fallback: the classic tracepoint, for kernels without tp_btf. */
SEC("tracepoint/skb/kfree_skb")
int kfree_skb_tp(struct trace_event_raw_kfree_skb *ctx)
{
	count((u32)ctx->reason);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
