/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the summary, the filters, the sampler and argument capture share
 * between the BPF side (bpf/call_stats.bpf.h, bpf/call_args.bpf.h) and user
 * space: the per-function statistics kept in the kernel (with the latency
 * histogram's bucket rule, the same code on both sides), and the argument
 * specs user space hands to the kernel. Plain fixed-width types only; the
 * records themselves are in span_record.h. */
#ifndef SPANPROBE_CALL_SETTINGS_H
#define SPANPROBE_CALL_SETTINGS_H

/* Latency histogram: log2 buckets, each power of two split in
 * HIST_SUB linear sub-buckets (like HdrHistogram with 2 significant bits):
 * a bucket spans 1/4 of its power of two, so a percentile read as the
 * bucket's midpoint is within 12.5% of the true value. Values below
 * HIST_SUB ns get a bucket each; values of 2^(HIST_MAX_POW+1) ns (about 37
 * minutes) and more share the last bucket (max_ns stays exact). */
#define HIST_SUB_BITS 2
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_POW 41
#define HIST_BUCKETS ((HIST_MAX_POW - HIST_SUB_BITS + 2) * HIST_SUB)

/* The bucket of a duration of v ns. Without a count-leading-zeros
 * instruction in BPF: a binary search for the highest set bit. */
static inline __u32 hist_bucket(__u64 v)
{
	__u64 x = v;
	__u32 p = 0;

	if (v < HIST_SUB)
		return (__u32)v;
	if (x >> 32) { x >>= 32; p += 32; }
	if (x >> 16) { x >>= 16; p += 16; }
	if (x >> 8) { x >>= 8; p += 8; }
	if (x >> 4) { x >>= 4; p += 4; }
	if (x >> 2) { x >>= 2; p += 2; }
	if (x >> 1) p += 1;
	if (p > HIST_MAX_POW)
		return HIST_BUCKETS - 1;
	return (p - HIST_SUB_BITS + 1) * HIST_SUB + (__u32)((v >> (p - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* The smallest duration in bucket b (the inverse of hist_bucket). */
static inline __u64 hist_bucket_low(__u32 b)
{
	__u32 p;

	if (b < HIST_SUB)
		return b;
	p = b / HIST_SUB + HIST_SUB_BITS - 1;
	return (__u64)(HIST_SUB + b % HIST_SUB) << (p - HIST_SUB_BITS);
}

/* One function's calls on one CPU (a per-CPU array; user space sums the
 * CPUs). Truncated calls (their return never seen) are counted but not in
 * the times or the histogram: their end is only when the loss was seen. */
struct call_stats {
	__u64 calls;      /* finished calls: the histogram's total */
	__u64 errors;     /* of those, with an error (rule, or an exception) */
	__u64 truncated;  /* calls whose return was never seen */
	__u64 total_ns;   /* sum of durations */
	__u64 self_ns;    /* sum of durations minus the traced calls made inside */
	__u64 max_ns;
	__u64 min_ns;     /* 0: none yet */
	__u64 hist[HIST_BUCKETS];
};

/* Sampler (OTEL_TRACES_SAMPLER), decided at a trace's root in the kernel. */
#define SAMPLE_ALWAYS_ON  0
#define SAMPLE_ALWAYS_OFF 1
#define SAMPLE_RATIO      2 /* traceidratio: sampled when the trace id's
			     * lowest 56 bits (its last 7 bytes, big-endian)
			     * are >= sample_threshold = (1 - ratio) * 2^56,
			     * the OpenTelemetry specification's rule */
#define SAMPLE_RANDOM_BITS 56

/* Argument types (--arg). */
/* Calls with captured arguments open at once in a thread; a deeper one's
 * arguments are not captured (STAT_ARGS_DROPS). */
#define ARG_SLOTS 8

#define ARG_T_INT   1 /* signed integer, arg_slot.size bytes */
#define ARG_T_UINT  2 /* unsigned integer */
#define ARG_T_HEX   3 /* unsigned, shown in hex */
#define ARG_T_STR   4 /* char *: the NUL-terminated string it points to */
#define ARG_T_PSTR  5 /* char **: the string its first pointer points to */

struct arg_slot {
	__u8 reg;   /* 0..ARG_MAX-1: rdi, rsi, rdx, rcx, r8, r9 */
	__u8 type;  /* ARG_T_* */
	__u8 size;  /* integers: 1, 2, 4 or 8 bytes */
	__u8 str;   /* strings: which captured_args.str */
};

/* The arguments captured for one function (array map by function id). */
struct arg_spec {
	__u8 nargs;  /* 0: none */
	__u8 pad[3];
	struct arg_slot slot[6];
};

#endif /* SPANPROBE_CALL_SETTINGS_H */
