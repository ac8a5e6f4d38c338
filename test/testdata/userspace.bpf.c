/* Test config "userspace": a uprobe and a USDT probe on the test target,
 * which the tests build at TARGET_PATH. */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} test_uprobe_calls_total SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} test_usdt_ticks_total SEC(".maps");

SEC("uprobe//tmp/ebpf_exporter_test/target:hx_target_work")
int on_target_work(void *ctx)
{
	u32 pid = tgid();
	add(&test_uprobe_calls_total, &pid, 1);
	return 0;
}

SEC("usdt//tmp/ebpf_exporter_test/target:hxtest:tick")
int on_tick(void *ctx)
{
	u32 pid = tgid();
	add(&test_usdt_ticks_total, &pid, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
