/* Test config "core": a tracepoint counter and an exp2 histogram with a sum key. */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} test_getpid_calls_total SEC(".maps");

struct write_key {
	u32 pid;
	u32 bucket;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct write_key);
	__type(value, u64);
} test_write_size_bytes SEC(".maps");

#define WRITE_BUCKET_MAX 20

SEC("tracepoint/syscalls/sys_enter_getpid")
int count_getpid(void *ctx)
{
	u32 pid = tgid();
	add(&test_getpid_calls_total, &pid, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_write")
int observe_write(struct trace_event_raw_sys_enter *ctx)
{
	u64 n = ctx->args[2];
	struct write_key key = { .pid = tgid() };
	u32 b = log2_ceil(n);
	if (b > WRITE_BUCKET_MAX)
		b = WRITE_BUCKET_MAX;
	key.bucket = b;
	add(&test_write_size_bytes, &key, 1);
	key.bucket = WRITE_BUCKET_MAX + 1;
	add(&test_write_size_bytes, &key, n);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
