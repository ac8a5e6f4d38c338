/* Test config "broken": one good program beside programs that fail in
 * different ways. The good one must keep running. */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} test_broken_ok_total SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} test_broken_dead_total SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int good(void *ctx)
{
	u32 pid = tgid();
	add(&test_broken_ok_total, &pid, 1);
	return 0;
}

/* The verifier refuses this: the lookup result is used without a NULL check. */
SEC("tracepoint/syscalls/sys_enter_getppid")
int refused_by_verifier(void *ctx)
{
	u32 pid = tgid();
	u64 *v = bpf_map_lookup_elem(&test_broken_dead_total, &pid);
	*v += 1;
	return 0;
}

SEC("tracepoint/no_such_category/no_such_event")
int missing_tracepoint(void *ctx)
{
	u32 pid = tgid();
	add(&test_broken_dead_total, &pid, 1);
	return 0;
}

SEC("kprobe/do_nanosleep")
int needs_kprobes(void *ctx)
{
	u32 pid = tgid();
	add(&test_broken_dead_total, &pid, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
