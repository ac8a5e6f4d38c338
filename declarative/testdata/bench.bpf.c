// Hand-written C twins of testdata/bench.yaml, for the per-event cost
// comparison in bench_test.go. Written the way the built-ins are
// (builtin/bpf/maps.bpf.h): lookup_or_init + atomic add, exact log2.
// Regenerate bench.bpf.o with ./generate.sh (needs clang-19).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.bpf.h"

#define HX_WORK 0x006b726f772d7868ULL /* "hx-work\0" little-endian */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u32);
	__type(value, u64);
} c_getpid_calls SEC(".maps");

struct write_key {
	u32 pid;
	u32 pad;
	u64 bucket;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct write_key);
	__type(value, u64);
} c_write_sizes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u64);
	__type(value, u64);
} c_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct write_key);
	__type(value, u64);
} c_latency SEC(".maps");

static __always_inline int is_hx_work(void)
{
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	return *(u64 *)comm == HX_WORK;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int c_getpid(struct trace_event_raw_sys_enter *ctx)
{
	u32 pid;

	if (!is_hx_work())
		return 0;
	pid = bpf_get_current_pid_tgid() >> 32;
	increment_map(&c_getpid_calls, &pid, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_write")
int c_write(struct trace_event_raw_sys_enter *ctx)
{
	struct write_key key = {};

	if (!is_hx_work())
		return 0;
	key.pid = bpf_get_current_pid_tgid() >> 32;
	observe_exp2(increment_map, &c_write_sizes, &key, &key.bucket, ctx->args[2], 20);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int c_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	u64 tid, ts;

	if (!is_hx_work())
		return 0;
	tid = (u32)bpf_get_current_pid_tgid();
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&c_start, &tid, &ts, BPF_ANY);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int c_sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct write_key key = {};
	u64 tid, *ts, delta;

	tid = (u32)bpf_get_current_pid_tgid();
	ts = bpf_map_lookup_elem(&c_start, &tid);
	if (!ts)
		return 0;
	delta = bpf_ktime_get_ns() - *ts;
	bpf_map_delete_elem(&c_start, &tid);
	key.pid = ctx->id;
	observe_exp2(increment_map, &c_latency, &key, &key.bucket, delta, 40);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
