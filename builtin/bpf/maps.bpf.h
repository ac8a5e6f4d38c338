/* Map helpers shared by the built-in programs. */
#ifndef __MAPS_BPF_H
#define __MAPS_BPF_H

#include <bpf/bpf_helpers.h>
#include "bits.bpf.h"

/*
 * lookup_or_init returns the value of key in map, inserting zero first when
 * the key is missing. It returns NULL when the map is full: the event is then
 * not counted, which is how every built-in stays within its max_entries.
 */
static __always_inline void *lookup_or_init(void *map, const void *key)
{
	u64 zero = 0;
	void *val;

	val = bpf_map_lookup_elem(map, key);
	if (val)
		return val;
	/* BPF_NOEXIST: a racing CPU may have inserted it; then we just look up. */
	bpf_map_update_elem(map, key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* increment_map adds by to the u64 at key in a shared (not per-CPU) map. */
static __always_inline void increment_map(void *map, const void *key, u64 by)
{
	u64 *count = lookup_or_init(map, key);

	if (count)
		__sync_fetch_and_add(count, by);
}

/*
 * increment_percpu adds by to this CPU's u64 at key in a per-CPU map. No
 * atomic is needed: the slot belongs to this CPU, and BPF programs run with
 * migration disabled. The exporter sums the CPUs when it reads the map.
 */
static __always_inline void increment_percpu(void *map, const void *key, u64 by)
{
	u64 *count = lookup_or_init(map, key);

	if (count)
		*count += by;
}

/*
 * observe_exp2 records value in an exp2 histogram map whose key ends with the
 * u64 bucket field *bucket (a member of *key): one count in bucket
 * log2_ceil(value) clamped to max, and value added to the sum key max + 1.
 * inc is increment_map or increment_percpu, matching the map's type.
 */
#define observe_exp2(inc, map, key, bucket, value, max)            \
	do {                                                          \
		u64 __v = (value);                                    \
		u64 __b = log2_ceil(__v);                             \
		if (__b > (max))                                      \
			__b = (max);                                  \
		*(bucket) = __b;                                      \
		inc((map), (key), 1);                                 \
		*(bucket) = (max) + 1;                                \
		inc((map), (key), __v);                               \
	} while (0)

#endif /* __MAPS_BPF_H */
