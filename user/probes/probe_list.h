/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* -l: the functions the probes match, each with its probe's cost class, or
 * why it can't be probed; with -v also why that class, and the source line. */
#ifndef SPANPROBE_PROBE_LIST_H
#define SPANPROBE_PROBE_LIST_H

#include <stdbool.h>
#include <stdio.h>

struct probe_table;

void probe_list__print(const struct probe_table *t, bool verbose, FILE *to);

#endif
