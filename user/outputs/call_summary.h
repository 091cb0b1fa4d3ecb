/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The summary at exit: per function calls, errors, truncated calls, total
 * and self time, p50/p90/p99/max, the probe's cost class, then each
 * function's latency histogram in bpftrace's hist() form; functions sorted
 * by total time, the top N. Everything comes from the kernel's per-function
 * statistics, so it is exact whatever was sampled, filtered or lost. */
#ifndef SPANPROBE_CALL_SUMMARY_H
#define SPANPROBE_CALL_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "func_stats.h"

/* The duration at quantile q (0..1) of the histogram: the midpoint of the
 * bucket holding it (within 12.5%), clamped to [min, max]; 0 without calls. */
uint64_t call_stats__quantile(const struct call_stats *s, double q);
/* Sorts fs by total time (most first) and prints the top ones (top 0: all). */
void call_summary__print(FILE *to, struct func_stats *fs, size_t n, unsigned top);
/* "7.8 ms", "312 ns", "1.25 s" into buf. */
void format_short_duration(uint64_t ns, char *buf, size_t len);

#endif
