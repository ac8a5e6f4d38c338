/* Test config "alternatives": three programs count getpid calls through
 * different hooks; program_alternatives makes the first that attaches run. */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} test_alt_getpid_calls_total SEC(".maps");

#define NR_getpid 39

SEC("kprobe/__x64_sys_getpid")
int via_kprobe(void *ctx)
{
	u32 pid = tgid();
	add(&test_alt_getpid_calls_total, &pid, 1);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(via_btf, struct pt_regs *regs, long id)
{
	if (id != NR_getpid)
		return 0;
	u32 pid = tgid();
	add(&test_alt_getpid_calls_total, &pid, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int via_tp(void *ctx)
{
	u32 pid = tgid();
	add(&test_alt_getpid_calls_total, &pid, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
