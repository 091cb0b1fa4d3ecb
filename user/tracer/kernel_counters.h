/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Every counter the BPF programs keep (enum stat_id, bpf/span_record.h),
 * said the same way wherever it is shown: the summary line and the
 * Prometheus text are both made from the table in kernel_counters.c. */
#ifndef SPANPROBE_KERNEL_COUNTERS_H
#define SPANPROBE_KERNEL_COUNTERS_H

#include <linux/types.h>
#include <stdint.h>
#include <stdio.h>

#include "span_record.h"

/* The summary's "lost N (ring buffer full N, nesting > 32 N, no thread
 * slot N)": calls that never became spans, always shown. */
void kernel_counters__summary_lost(const uint64_t k[STAT_MAX], FILE *to);
/* The summary's other clauses ("; 3 traces not sampled", ...), each only
 * when its counter is not 0. */
void kernel_counters__summary_notes(const uint64_t k[STAT_MAX], FILE *to);
/* Every counter in the Prometheus text format, 0 included. */
void kernel_counters__metrics(const uint64_t k[STAT_MAX], FILE *to);

#endif
