/* Exact log2 helpers and unit conversions for exp2 histograms. */
#ifndef __BITS_BPF_H
#define __BITS_BPF_H

/*
 * log2_floor returns floor(log2(v)) for v > 0 and 0 for v == 0.
 * Branch-free binary search over the bit width: each step tests whether the
 * remaining value has a bit set in its upper half and, if so, shifts it down
 * and records the shift. After the 32/16/8/4/2 steps v is 1, 2 or 3, so its
 * last bit position is v >> 1. No loops, no __builtin_clz (the BPF backend
 * lacks it), so the verifier sees a fixed, short instruction sequence.
 */
static __always_inline u64 log2_floor(u64 v)
{
	u64 r, shift;

	r = (u64)(v > 0xFFFFFFFFULL) << 5;
	v >>= r;
	shift = (u64)(v > 0xFFFF) << 4;
	v >>= shift;
	r |= shift;
	shift = (u64)(v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (u64)(v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (u64)(v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

/*
 * log2_ceil returns the exp2 bucket of v: the smallest k with v <= 2^k, that
 * is ceil(log2(v)), and 0 for v of 0 or 1. For v >= 2, v <= 2^k holds exactly
 * when v-1 < 2^k, i.e. when floor(log2(v-1)) < k, so the answer is
 * floor(log2(v-1)) + 1 with no rounding anywhere: 2 -> 1, 3 -> 2, 4 -> 2,
 * 5 -> 3, 2^63 -> 63, 2^63+1 -> 64.
 */
static __always_inline u64 log2_ceil(u64 v)
{
	if (v <= 1)
		return 0;
	return log2_floor(v - 1) + 1;
}

#define NSEC_PER_SEC 1000000000ULL

/*
 * ns_to_units converts nanoseconds to units of 2^-30 seconds, rounding up:
 * ceil(ns * 2^30 / 1e9), computed without overflow as whole seconds shifted
 * plus the rounded-up sub-second part ((ns % 1e9) << 30 stays below 2^60).
 *
 * Rounding up keeps bucket boundaries exact: for a true duration x units and
 * an integer bound 2^k, ceil(x) <= 2^k exactly when x <= 2^k, so an event
 * lands in bucket k exactly when it took at most 2^(k-30) seconds. The sum
 * adds the same rounded-up units, so it is high by less than 1 unit
 * (0.93 ns) per event.
 */
static __always_inline u64 ns_to_units(u64 ns)
{
	u64 secs = ns / NSEC_PER_SEC;
	u64 rem = ns % NSEC_PER_SEC;

	return (secs << 30) + ((rem << 30) + NSEC_PER_SEC - 1) / NSEC_PER_SEC;
}

/* Bucket multiplier that turns units back into seconds: 2^-30. */
#define UNITS_PER_SECOND (1ULL << 30)

/* The top bucket for time histograms: 2^36 units = 64 seconds. */
#define TIME_BUCKET_MAX 36

#endif /* __BITS_BPF_H */
