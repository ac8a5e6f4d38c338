/* Helpers shared by the test programs. */
#ifndef TEST_COMMON_BPF_H
#define TEST_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

static __always_inline void add(void *map, const void *key, u64 n)
{
	u64 *v = bpf_map_lookup_elem(map, key);
	if (v) {
		__sync_fetch_and_add(v, n);
		return;
	}
	if (bpf_map_update_elem(map, key, &n, BPF_NOEXIST) == 0)
		return;
	/* Another CPU inserted the key first. */
	v = bpf_map_lookup_elem(map, key);
	if (v)
		__sync_fetch_and_add(v, n);
}

static __always_inline u32 tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* log2 rounded up: the exp2 bucket whose upper bound 2^k holds v. */
static __always_inline u32 log2_ceil(u64 v)
{
	u32 k = 0;
	u64 p = 1;
#pragma clang loop unroll(disable)
	for (int i = 0; i < 64; i++) {
		if (p >= v)
			break;
		p <<= 1;
		k++;
	}
	return k;
}

#endif
