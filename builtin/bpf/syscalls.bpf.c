// SPDX-License-Identifier: GPL-2.0
/* syscalls: system calls entered, and failed ones by errno. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.bpf.h"

/* Highest errno a syscall returns: the kernel's MAX_ERRNO. */
#define MAX_ERRNO 4095

/* One key per syscall number (x86_64 has about 460). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, u64);
	__type(value, u64);
} syscalls_total SEC(".maps");

struct error_key {
	u32 syscall;
	u32 errno;
};

/* One key per (syscall, errno) pair seen; a busy host shows a few hundred. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct error_key);
	__type(value, u64);
} syscall_errors_total SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	u64 id = (u64)ctx->id;

	increment_percpu(&syscalls_total, &id, 1);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	long ret = ctx->ret;
	struct error_key key;

	/* Errors are -MAX_ERRNO..-1; other negative values are not errnos. */
	if (ret >= 0 || ret < -MAX_ERRNO)
		return 0;
	key.syscall = (u32)ctx->id;
	key.errno = (u32)(-ret);
	increment_percpu(&syscall_errors_total, &key, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
