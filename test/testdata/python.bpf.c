/* Test config "python": Python's function__entry USDT probe, as a config
 * written for the reference exporter reads it: the module (file) and
 * function name are pointer arguments, read with BPF_USDT() and copied
 * from user memory. "python3" is found on PATH. */
#include "common.bpf.h"
#include <bpf/usdt.bpf.h>

struct call {
	char module[128];
	char function[128];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct call);
	__type(value, u64);
} test_python_function_entries_total SEC(".maps");

SEC("usdt/python3:python:function__entry")
int BPF_USDT(on_function_entry, void *module, void *function, int line)
{
	struct call c = {};

	bpf_probe_read_user_str(&c.module, sizeof(c.module), module);
	bpf_probe_read_user_str(&c.function, sizeof(c.function), function);
	add(&test_python_function_entries_total, &c, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
