/* Test config "iter": a task iterator the exporter runs at every scrape; it
 * records each process's thread count. */
#include "common.bpf.h"
#include <bpf/bpf_core_read.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, u32);
	__type(value, u64);
} test_iter_threads SEC(".maps");

SEC("iter/task")
int record_threads(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	if (!task || task->pid != task->tgid)
		return 0;
	u32 pid = task->tgid;
	u64 n = BPF_CORE_READ(task, signal, nr_threads);
	bpf_map_update_elem(&test_iter_threads, &pid, &n, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
