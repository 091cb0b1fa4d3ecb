/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The text of -l (the functions a run would trace, with their probe cost)
 * and the one-line warning naming the functions left out. */
#ifndef SPANPROBE_PROBE_LIST_H
#define SPANPROBE_PROBE_LIST_H

#include <stdbool.h>
#include <stdio.h>

struct probe_table;
struct traced_binary;

/* One line per function: "uprobe:PATH:NAME  [cost]  (also ALIASES)", or
 * "(can't probe: why)"; verbose adds why that cost, the declaration, the
 * linkage name, the exits and an ifunc's candidates. */
void probe_list__print(const struct probe_table *t, bool verbose, FILE *out);
/* "spanprobe: warning: 2 of 2594 functions not traced: 1 first instruction
 * refused by the kernel (pthread_spin_lock), 1 ...; -l -v says why" for the
 * functions of only (NULL: all); prints nothing when none is skipped. */
void probe_list__print_skipped(FILE *out, const struct probe_table *t,
			       const struct traced_binary *only);
/* " (2 emulated, 1 single-step: a single-stepped probe adds microseconds
 * to each call)" for the start line, or "" when no function is probed. */
void probe_list__cost_classes(const struct probe_table *t, char *buf, size_t len);

#endif /* SPANPROBE_PROBE_LIST_H */
