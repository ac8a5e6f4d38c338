/* Test config "kaddrs": the exporter writes the address of vfs_read into
 * kaddr_vfs_read before loading; the program uses it as a map key. */
#include "common.bpf.h"

volatile const u64 kaddr_vfs_read;

struct kaddr_key {
	u64 addr;
	u32 pid;
	u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct kaddr_key);
	__type(value, u64);
} test_kaddr_getpid_calls_total SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int count_with_kaddr(void *ctx)
{
	struct kaddr_key key = { .addr = kaddr_vfs_read, .pid = tgid() };
	add(&test_kaddr_getpid_calls_total, &key, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
