// SPDX-License-Identifier: GPL-2.0
/* skb-drops: packets (sk_buffs) dropped by the kernel, by drop reason. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
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

SEC("tracepoint/skb/kfree_skb")
int kfree_skb(struct trace_event_raw_kfree_skb *ctx)
{
	u32 reason = (u32)ctx->reason;

	increment_percpu(&skb_drops_total, &reason, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
