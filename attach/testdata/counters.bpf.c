// Test programs for package attach: one counter slot per attach kind.
// Rebuild with generate.sh; the objects are committed.
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum slot {
	SLOT_TRACEPOINT,
	SLOT_RAW_TP,
	SLOT_TP_BTF,
	SLOT_UPROBE,
	SLOT_USDT,
	SLOT_XDP,
	SLOT_ITER,
	SLOT_KPROBE,
	SLOT_MAX,
};

#define MAX_CPUS 256

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_CPUS);
	__type(key, __u32);
	__type(value, __u64);
} cpu_samples SEC(".maps");

// Set by the test before loading.
volatile const __u32 target_tgid;
volatile const __u64 target_syscall;
volatile const __u16 target_port;

static __always_inline void bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &slot);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int own_tgid(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int tp_getpid(void *ctx)
{
	if (own_tgid())
		bump(SLOT_TRACEPOINT);
	return 0;
}

SEC("raw_tp/sys_enter")
int raw_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	// sys_enter(struct pt_regs *regs, long id)
	if (own_tgid() && ctx->args[1] == target_syscall)
		bump(SLOT_RAW_TP);
	return 0;
}

SEC("tp_btf/sys_enter")
int btf_sys_enter(__u64 *ctx)
{
	if (own_tgid() && ctx[1] == target_syscall)
		bump(SLOT_TP_BTF);
	return 0;
}

// The test rewrites BINARY before attaching.
SEC("uprobe/BINARY:target_func")
int uprobe_func(void *ctx)
{
	bump(SLOT_UPROBE);
	return 0;
}

SEC("usdt/BINARY:ebpftest:hit")
int usdt_hit(void *ctx)
{
	bump(SLOT_USDT);
	return 0;
}

SEC("kprobe/do_sys_openat2")
int kprobe_open(void *ctx)
{
	bump(SLOT_KPROBE);
	return 0;
}

SEC("kretprobe/do_sys_openat2")
int kretprobe_open(void *ctx)
{
	bump(SLOT_KPROBE);
	return 0;
}

SEC("perf_event/type=1,config=0,frequency=1000")
int cpu_clock(void *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 *v = bpf_map_lookup_elem(&cpu_samples, &cpu);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

// Same program for the hardware event the test expects to fail here.
SEC("perf_event/type=0,config=0,frequency=99")
int cpu_cycles(void *ctx)
{
	return 0;
}

SEC("xdp/lo")
int xdp_udp(struct xdp_md *ctx)
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
	if (udp->dest == bpf_htons(target_port))
		bump(SLOT_XDP);
	return XDP_PASS;
}

// Matches the kernel's struct bpf_iter__task; only the pointer is read.
struct bpf_iter__task {
	void *meta;
	void *task;
};

SEC("iter/task")
int iter_task(struct bpf_iter__task *ctx)
{
	if (ctx->task)
		bump(SLOT_ITER);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
