/* Test config "cgroupmap": counts getpid calls only in the cgroups the
 * exporter puts in cgroup_filter (the reference's cgroup_id_map). */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u64);
	__type(value, u8);
} cgroup_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} test_cgroup_getpid_calls_total SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int count_in_cgroup(void *ctx)
{
	u64 cg = bpf_get_current_cgroup_id();
	if (!bpf_map_lookup_elem(&cgroup_filter, &cg))
		return 0;
	u32 pid = tgid();
	add(&test_cgroup_getpid_calls_total, &pid, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
