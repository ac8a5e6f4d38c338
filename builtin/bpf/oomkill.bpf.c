// SPDX-License-Identifier: GPL-2.0
/* oomkill: OOM kills by the victim's cgroup (v2). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

/*
 * Minimal CO-RE views of the kernel types on the path task->cgroups->
 * dfl_cgrp->kn->id: the loader matches them by name (ignoring the ___suffix)
 * and relocates the offsets. They keep the object's BTF small and its bytes
 * reproducible, which vmlinux.h's full task_struct does not.
 */
struct kernfs_node___oomkill {
	u64 id;
} __attribute__((preserve_access_index));

struct cgroup___oomkill {
	struct kernfs_node___oomkill *kn;
} __attribute__((preserve_access_index));

struct css_set___oomkill {
	struct cgroup___oomkill *dfl_cgrp;
} __attribute__((preserve_access_index));

struct task_struct___oomkill {
	struct css_set___oomkill *cgroups;
} __attribute__((preserve_access_index));

/* One key per cgroup that had an OOM kill. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u64);
	__type(value, u64);
} oom_kills_total SEC(".maps");

/*
 * mark_victim fires once per victim chosen by the OOM killer (global or
 * memcg). The tp_btf form passes the victim task itself (kernels whose
 * tracepoint is TP_PROTO(struct task_struct *task, uid_t uid)), so the
 * cgroup is the victim's, not that of the task that ran the OOM killer.
 */
SEC("tp_btf/mark_victim")
int BPF_PROG(mark_victim, struct task_struct___oomkill *task, uid_t uid)
{
	u64 cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);

	increment_map(&oom_kills_total, &cgroup_id, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
