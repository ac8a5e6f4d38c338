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

/*
 * The tp_btf programs get the struct request itself and compute what the
 * classic tracepoints record (include/trace/events/block.h), from these
 * minimal CO-RE views: the loader matches them to the kernel's types by
 * name (the ___suffix is ignored) and relocates the field offsets. They keep
 * the object's BTF free of the forward declarations full vmlinux.h structs
 * drag in (see generate.sh). request_queue.disk is Linux 5.15+; where it is
 * missing the relocation fails, the tp_btf program does not load, and the
 * classic tracepoint program runs instead.
 */
struct gendisk___block {
	int major;
	int first_minor;
} __attribute__((preserve_access_index));

struct request_queue___block {
	struct gendisk___block *disk;
} __attribute__((preserve_access_index));

struct request___block {
	struct request_queue___block *q;
	unsigned int cmd_flags;
	unsigned int __data_len;
	u64 __sector;
} __attribute__((preserve_access_index));

/* enum req_op values and the mask of the op in cmd_flags (stable since 4.10). */
#define REQ_OP_MASK_ 0xff
#define REQ_OP_READ_ 0
#define REQ_OP_WRITE_ 1
#define REQ_OP_FLUSH_ 2
#define REQ_OP_DISCARD_ 3
#define REQ_OP_SECURE_ERASE_ 5

/* The tracepoints' dev: rq->q->disk ? disk_devt(rq->q->disk) : 0. */
static __always_inline u32 rq_dev(struct request___block *rq)
{
	struct gendisk___block *disk = rq->q->disk;

	if (!disk)
		return 0;
	return ((u32)disk->major << 20) | (u32)disk->first_minor;
}

/*
 * rq_op is rwbs_op of the rwbs the tracepoints write (blk_fill_rwbs of
 * rq->cmd_flags), computed from the op itself: the op letter W, D (discard
 * and secure erase), F, R or N (any other op) decides it, and a preflush
 * 'F' before it never does.
 */
static __always_inline u32 rq_op(struct request___block *rq)
{
	switch (rq->cmd_flags & REQ_OP_MASK_) {
	case REQ_OP_READ_:
		return OP_READ;
	case REQ_OP_WRITE_:
		return OP_WRITE;
	case REQ_OP_FLUSH_:
		return OP_FLUSH;
	case REQ_OP_DISCARD_:
	case REQ_OP_SECURE_ERASE_:
		return OP_DISCARD;
	default:
		return OP_OTHER;
	}
}

/*
 * blk_rq_is_passthrough: REQ_OP_DRV_IN (34), REQ_OP_DRV_OUT (35), and
 * before Linux 5.18 also REQ_OP_SCSI_IN (32), REQ_OP_SCSI_OUT (33); newer
 * kernels have no op 32 or 33.
 */
static __always_inline bool rq_passthrough(struct request___block *rq)
{
	u32 op = rq->cmd_flags & REQ_OP_MASK_;

	return op >= 32 && op <= 35;
}

/* The issue tracepoint's sector: blk_rq_trace_sector(rq). */
static __always_inline u64 rq_trace_sector(struct request___block *rq)
{
	u64 sector = rq->__sector;

	if (rq_passthrough(rq) || sector == (u64)-1)
		return 0;
	return sector;
}

/* The issue tracepoint's nr_sector: blk_rq_trace_nr_sectors(rq). */
static __always_inline u32 rq_trace_nr_sectors(struct request___block *rq)
{
	if (rq_passthrough(rq))
		return 0;
	return rq->__data_len >> 9;
}

#endif /* __BLOCK_BPF_H */
