/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Turning the kernel's span_event into a struct span. */
#ifndef SPANPROBE_SPAN_DECODE_H
#define SPANPROBE_SPAN_DECODE_H

#include <stdint.h>
#include <linux/types.h>

#include "span_event.h"

struct span;
struct probe_table;
struct process_table;

/* CLOCK_REALTIME minus CLOCK_MONOTONIC now, to put kernel times on the wall clock. */
int64_t monotonic_to_realtime_offset(void);

/* Returns 0, or -ENOENT for an event naming no known function (ignored). */
int span__from_event(struct span *s, const struct span_event *e, const struct probe_table *t,
		     int64_t mono_to_real_ns, struct process_table *procs);

#endif
