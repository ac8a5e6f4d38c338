/* Test config "values": one map whose value holds two counters, exported
 * as two metrics through the reference's counter values. */
#include "common.bpf.h"

struct writes {
	u64 calls;
	u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, struct writes);
} test_writes SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_write")
int count_write(struct trace_event_raw_sys_enter *ctx)
{
	u32 pid = tgid();
	struct writes *w = bpf_map_lookup_elem(&test_writes, &pid);
	if (!w) {
		struct writes zero = {};
		bpf_map_update_elem(&test_writes, &pid, &zero, BPF_NOEXIST);
		w = bpf_map_lookup_elem(&test_writes, &pid);
		if (!w)
			return 0;
	}
	/* Per-CPU values: no other CPU writes this copy. */
	w->calls += 1;
	w->bytes += ctx->args[2];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
