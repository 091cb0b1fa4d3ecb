/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What only process_choice.c and its unit tests see. */
#ifndef SPANPROBE_PROCESS_CHOICE_INTERNAL_H
#define SPANPROBE_PROCESS_CHOICE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "unittest.h"

struct process_choice;

/* Processes remembered while not chosen (told "not chosen" with -v, or
 * counted and unchosen since) are not reported when they exit. Past this
 * many, those gone are forgotten, and all of them if that leaves more than
 * half: one forgotten and met again may be said or counted once more,
 * never once too few. */
#define REMEMBERED_MAX 4096

/* -v: whether "process PID not chosen: WHY" was said already for this
 * process (pid, start) and reason; remembers it now. */
UNITTEST bool said_before(struct process_choice *c, pid_t pid, uint64_t start, const char *why);

#endif
