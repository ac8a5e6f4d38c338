// SPDX-License-Identifier: GPL-2.0
/* page-faults: page faults taken, from user or kernel mode (x86 only). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.bpf.h"

#define FAULT_USER 0
#define FAULT_KERNEL 1

/* Two keys: user and kernel. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, u64);
} page_faults_total SEC(".maps");

SEC("tracepoint/exceptions/page_fault_user")
int page_fault_user(struct trace_event_raw_exceptions *ctx)
{
	u32 type = FAULT_USER;

	increment_percpu(&page_faults_total, &type, 1);
	return 0;
}

SEC("tracepoint/exceptions/page_fault_kernel")
int page_fault_kernel(struct trace_event_raw_exceptions *ctx)
{
	u32 type = FAULT_KERNEL;

	increment_percpu(&page_faults_total, &type, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
