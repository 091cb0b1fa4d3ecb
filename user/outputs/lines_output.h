/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The `lines` output: one line per finished call, as `ltrace -tt -T` or
 * uftrace's replay print them: the wall-clock start, pid/tid, the call
 * indented by its depth with its captured arguments, the return value, the
 * duration, and error or truncation. Lines come as calls finish, so a
 * call's line follows those of the calls it made. */
#ifndef SPANPROBE_LINES_OUTPUT_H
#define SPANPROBE_LINES_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

struct span;

int lines_output__write(FILE *out, const struct span *s, bool color);

#endif
