// SPDX-License-Identifier: GPL-2.0
/* syscalls: system calls entered, and failed ones by errno. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
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

/*
 * Minimal CO-RE view of the x86_64 struct pt_regs: the syscall number is in
 * orig_ax (the kernel's syscall_get_nr).
 */
struct pt_regs___syscalls {
	unsigned long orig_ax;
} __attribute__((preserve_access_index));

static __always_inline void count_enter(u64 id)
{
	increment_percpu(&syscalls_total, &id, 1);
}

static __always_inline void count_exit(u32 id, long ret)
{
	struct error_key key;

	/* Errors are -MAX_ERRNO..-1; other negative values are not errnos. */
	if (ret >= 0 || ret < -MAX_ERRNO)
		return;
	key.syscall = id;
	key.errno = (u32)(-ret);
	increment_percpu(&syscall_errors_total, &key, 1);
}

/*
 * Two forms of each hook, grouped by program_alternatives in syscalls.yaml;
 * the loader runs the first that loads and attaches. Both pass the same
 * values to the same body.
 *
 * tp_btf (BTF-typed raw tracepoint, Linux 5.5+) first: it reads its
 * arguments straight from the tracepoint call, without the perf trace record
 * a classic tracepoint fills, and it is only skipped when this same program
 * is already running on the CPU. A classic tracepoint program is skipped
 * whenever any kprobe, perf event or classic tracepoint program runs on the
 * CPU (a recursion miss). On every syscall, skipping the perf trace
 * record also saves most of the hook's cost.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter_btf, struct pt_regs___syscalls *regs, long id)
{
	count_enter((u64)id);
	return 0;
}

/*
 * The raw tracepoint passes the registers and the return value; the
 * classic one adds the syscall number, syscall_get_nr(current, regs), which
 * on x86_64 is (int)regs->orig_ax.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_btf, struct pt_regs___syscalls *regs, long ret)
{
	if (ret >= 0)
		return 0; /* the common case: no need to read regs */
	count_exit((u32)regs->orig_ax, ret);
	return 0;
}

/* The fallback: classic tracepoints, for kernels without tp_btf. */
SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter_tp(struct trace_event_raw_sys_enter *ctx)
{
	count_enter((u64)ctx->id);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit_tp(struct trace_event_raw_sys_exit *ctx)
{
	count_exit((u32)ctx->id, ctx->ret);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
