/* Helpers shared by the block layer built-ins (biolatency, bio-size). */
#ifndef __BLOCK_BPF_H
#define __BLOCK_BPF_H

/* Operation label values; the YAML static_map names them. */
#define OP_READ 0
#define OP_WRITE 1
#define OP_FLUSH 2
#define OP_DISCARD 3
#define OP_OTHER 4

/*
 * rwbs_op reads the operation from the tracepoints' rwbs string, which the
 * kernel's blk_fill_rwbs writes as: an optional 'F' (preflush), then one op
 * letter (W write, D discard, DE secure erase, F flush, R read, N other),
 * then flag letters (F fua, A, S, M, ...). A leading 'F' followed by an op
 * letter is the preflush flag; "FF..." is a flush either way.
 */
/*
 * The caller reads the first two rwbs bytes from the tracepoint context with
 * read_rwbs: the verifier only allows context loads at constant offsets from
 * the context pointer, so both are loaded up front.
 */
static __always_inline u32 rwbs_op(char c, char n)
{

	if (c == 'F' && (n == 'W' || n == 'R' || n == 'D' || n == 'N'))
		c = n;
	switch (c) {
	case 'R':
		return OP_READ;
	case 'W':
		return OP_WRITE;
	case 'F':
		return OP_FLUSH;
	case 'D':
		return OP_DISCARD;
	default:
		return OP_OTHER;
	}
}

/* read_rwbs loads rwbs[0] and rwbs[1] from ctx into c and n. */
#define read_rwbs(ctx, c, n)                       \
	do {                                       \
		(c) = (ctx)->rwbs[0];              \
		(n) = (ctx)->rwbs[1];              \
		asm volatile("" : "+r"(c), "+r"(n)); \
	} while (0)

/*
 * encode_dev turns the kernel's dev_t (major << 20 | minor) into the
 * userspace encoding (new_encode_dev) that the majorminor decoder splits
 * with major(3)/minor(3) and looks up in /proc/partitions.
 */
static __always_inline u32 encode_dev(u32 dev)
{
	u32 major = dev >> 20;
	u32 minor = dev & ((1U << 20) - 1);

	return (minor & 0xff) | (major << 8) | ((minor & ~0xffU) << 12);
}

#endif /* __BLOCK_BPF_H */
