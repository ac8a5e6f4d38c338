// SPDX-License-Identifier: GPL-2.0
/* runqlat: run queue latency, from wakeup (or preemption) to running. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

#define TASK_RUNNING 0

/*
 * Minimal CO-RE views of task_struct: the loader matches them to the
 * kernel's task_struct by name (the ___suffix is ignored) and relocates the
 * field offsets. Using them instead of vmlinux.h's full task_struct keeps
 * the object's BTF small and its bytes reproducible (clang emits the
 * forward declarations a full task_struct drags in, in an order that
 * depends on memory layout).
 */
struct task_struct___runqlat {
	int pid;
	unsigned int __state;
} __attribute__((preserve_access_index));

/* Kernels before 5.14 call the state field "state". */
struct task_struct___pre_5_14 {
	long state;
} __attribute__((preserve_access_index));

/*
 * Enqueue times by pid. A task has an entry only while it is runnable and
 * not running: it is removed when the task runs or blocks, so the map holds
 * at most the runnable tasks.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u32);
	__type(value, u64);
} start SEC(".maps");

/* 37 buckets + the sum key. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TIME_BUCKET_MAX + 2);
	__type(key, u64);
	__type(value, u64);
} run_queue_latency_seconds SEC(".maps");

static __always_inline long task_state(struct task_struct___runqlat *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre_5_14 *)t, state);
}

static __always_inline void enqueue(u32 pid)
{
	u64 ts;

	if (pid == 0) /* the idle task */
		return;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct___runqlat *p)
{
	enqueue(p->pid);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct___runqlat *p)
{
	enqueue(p->pid);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct___runqlat *prev, struct task_struct___runqlat *next)
{
	u32 prev_pid = prev->pid;
	u32 next_pid = next->pid;
	u64 *tsp, delta, bucket;

	/*
	 * A preempted task stays on the run queue whatever its state says (it
	 * may have been preempted between set_current_state and schedule).
	 */
	if (preempt || task_state(prev) == TASK_RUNNING)
		enqueue(prev_pid);
	else if (prev_pid != 0)
		bpf_map_delete_elem(&start, &prev_pid);

	tsp = bpf_map_lookup_elem(&start, &next_pid);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &next_pid);

	observe_exp2(increment_percpu, &run_queue_latency_seconds, &bucket, &bucket,
		     ns_to_units(delta), TIME_BUCKET_MAX);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
