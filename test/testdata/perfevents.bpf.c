/* Test config "perfevents": a perf_event_array counter (reference format):
 * each getpid call sends its tgid as an event; the exporter counts events. */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} test_perf_getpid_events_total SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int send_getpid(void *ctx)
{
	u32 pid = tgid();
	bpf_perf_event_output(ctx, &test_perf_getpid_events_total, BPF_F_CURRENT_CPU, &pid, sizeof(pid));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
