/* Test config "iter": a task iterator the exporter runs at every scrape; it
 * records each process's thread count.
 *
 * The kernel structs are declared here with only the members read (CO-RE
 * matches them by name, ignoring the ___suffix): vmlinux.h's full
 * task_struct makes clang emit its many forward declarations in an order
 * that changes with the checkout directory, and the object must rebuild to
 * the same bytes anywhere. */
#include "common.bpf.h"
#include <bpf/bpf_core_read.h>

struct signal_struct___iter {
	int nr_threads;
} __attribute__((preserve_access_index));

struct task_struct___iter {
	int pid;
	int tgid;
	struct signal_struct___iter *signal;
} __attribute__((preserve_access_index));

struct bpf_iter__task___iter {
	void *meta;
	struct task_struct___iter *task;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, u32);
	__type(value, u64);
} test_iter_threads SEC(".maps");

SEC("iter/task")
int record_threads(struct bpf_iter__task___iter *ctx)
{
	struct task_struct___iter *task = ctx->task;
	if (!task || task->pid != task->tgid)
		return 0;
	u32 pid = task->tgid;
	u64 n = BPF_CORE_READ(task, signal, nr_threads);
	bpf_map_update_elem(&test_iter_threads, &pid, &n, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
