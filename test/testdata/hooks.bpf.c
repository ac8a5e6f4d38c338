/* Test config "hooks": raw_tp, tp_btf and a software perf event. */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} test_raw_getppid_calls_total SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} test_btf_getuid_calls_total SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} test_cpu_clock_samples_total SEC(".maps");

#define NR_getppid 110
#define NR_getuid 102

SEC("raw_tp/sys_enter")
int raw_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] != NR_getppid)
		return 0;
	u32 pid = tgid();
	add(&test_raw_getppid_calls_total, &pid, 1);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(btf_sys_enter, struct pt_regs *regs, long id)
{
	if (id != NR_getuid)
		return 0;
	u32 pid = tgid();
	add(&test_btf_getuid_calls_total, &pid, 1);
	return 0;
}

SEC("perf_event/type=1,config=0,frequency=1000")
int on_cpu_clock(void *ctx)
{
	u32 cpu = bpf_get_smp_processor_id();
	u64 *v = bpf_map_lookup_elem(&test_cpu_clock_samples_total, &cpu);
	if (v)
		*v += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
