/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One traced function's calls as the kernel counted them (call_stats.bpf.h),
 * summed over CPUs and named: what the summary and the metrics read. */
#ifndef SPANPROBE_FUNC_STATS_H
#define SPANPROBE_FUNC_STATS_H

#include <stdint.h>
#include <linux/types.h>

#include "call_settings.h"

struct func_stats {
	char name[128];
	char where[160];         /* the binary as the probe named it, or "file.py:line" */
	const char *probe_class; /* "single-step", "emulated", "nop5"; "usdt" for Python */
	uint32_t probe_overhead_ns; /* the probes' part of each duration (probe_cost.h) */
	struct call_stats s;
};

#endif
