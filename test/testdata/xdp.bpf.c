/* Test config "xdp": counts UDP packets to port 47991 on lo, by source port. */
#include "common.bpf.h"
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define TEST_PORT 47991

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} test_xdp_udp_packets_total SEC(".maps");

SEC("xdp/lo")
int count_udp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	if (udp->dest != bpf_htons(TEST_PORT))
		return XDP_PASS;
	u32 sport = bpf_ntohs(udp->source);
	add(&test_xdp_udp_packets_total, &sport, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
