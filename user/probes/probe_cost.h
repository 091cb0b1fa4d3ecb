/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* How much of a traced call's measured duration is the probes' own work:
 * the part of the entry probe after its timestamp (the single-step or
 * emulation of the probed instruction, the return to user space) and the
 * part of the return probe before its timestamp (the trap into the
 * kernel). It depends on the cost class of the function's entry probe (user/elf/), and
 * was measured on empty functions of each class (bench/per_call.sh):
 * a function probed by single-step shows several microseconds however short
 * it is. */
#ifndef SPANPROBE_PROBE_COST_H
#define SPANPROBE_PROBE_COST_H

#include <stdbool.h>
#include <stdint.h>

struct traced_func;

struct probe_cost {
	const char *cls;      /* "single-step", "emulated", "nop5" */
	uint32_t overhead_ns; /* inside each measured duration, typically */
};

/* Of f's entry probe where it sits (entry_site.h: maybe past its first
 * instructions). */
void probe_cost__of(const struct traced_func *f, struct probe_cost *out);
/* A duration the probes' cost dominates: at most twice their part of it. */
bool probe_cost__dominates(uint32_t overhead_ns, uint64_t duration_ns);

#endif
