/* Test config "usdtargs": libbpf's BPF_USDT() reading the arguments of the
 * hxtest:args probe of the test target, one of each kind the note gives:
 * a register (i), a sign-extended register (-(i%100)), a constant (7) and
 * a memory operand (i*3). */
#include "common.bpf.h"
#include <bpf/usdt.bpf.h>

#define COUNTER(name)                          \
	struct {                               \
		__uint(type, BPF_MAP_TYPE_HASH); \
		__uint(max_entries, 1024);     \
		__type(key, u32);              \
		__type(value, u64);            \
	} name SEC(".maps")

COUNTER(test_usdt_arg_i_sum_total);
COUNTER(test_usdt_arg_negated_sum_total);
COUNTER(test_usdt_arg_mem_sum_total);
COUNTER(test_usdt_arg_constant_total);
COUNTER(test_usdt_arg_count_total);

SEC("usdt//tmp/ebpf_exporter_test/target:hxtest:args")
int BPF_USDT(on_args, long i, short neg, int constant, int mem)
{
	u32 pid = tgid();
	u32 c = constant;
	u32 n = bpf_usdt_arg_cnt(ctx);

	add(&test_usdt_arg_i_sum_total, &pid, i);
	add(&test_usdt_arg_negated_sum_total, &pid, -neg);
	add(&test_usdt_arg_mem_sum_total, &pid, mem);
	add(&test_usdt_arg_constant_total, &c, 1);
	add(&test_usdt_arg_count_total, &n, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
