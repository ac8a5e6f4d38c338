/* Test config "cgrpstorage": counts getpid calls only in the cgroups whose
 * cgroup storage the exporter set (the reference's cgroup_id_map of type
 * cgrp_storage). */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, u64);
} cgroup_filter_storage SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} test_cgrp_storage_getpid_calls_total SEC(".maps");

/* Minimal CO-RE views of the kernel structs walked below: the full
 * vmlinux.h structs would make clang emit forward declarations in an order
 * that depends on memory addresses, and the object would not rebuild
 * byte-identically (see builtin/generate.sh). */
struct css_set___min {
	void *dfl_cgrp; /* struct cgroup * */
} __attribute__((preserve_access_index));

struct task_struct___min {
	struct css_set___min *cgroups;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_getpid")
int count_in_cgroup(void *ctx)
{
	struct task_struct___min *task = (void *)bpf_get_current_task_btf();
	u64 *ok = bpf_cgrp_storage_get(&cgroup_filter_storage, task->cgroups->dfl_cgrp, 0, 0);
	if (!ok || !*ok)
		return 0;
	u32 pid = tgid();
	add(&test_cgrp_storage_getpid_calls_total, &pid, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
