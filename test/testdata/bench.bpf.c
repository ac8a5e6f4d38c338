/* Test config "bench": one large counter map, filled from user space by
 * scripts/scrapebench to measure scrapes of 1k..1M series. */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1048576);
	__type(key, u64);
	__type(value, u64);
} bench_series_total SEC(".maps");

/* Never attached to anything busy: keeps the map referenced by a program. */
SEC("tracepoint/syscalls/sys_enter_sync")
int on_sync(void *ctx)
{
	u64 key = 0;
	add(&bench_series_total, &key, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
