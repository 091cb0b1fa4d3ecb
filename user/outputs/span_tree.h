/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The `tree` output: each finished trace printed as an indented call tree. */
#ifndef SPANPROBE_SPAN_TREE_H
#define SPANPROBE_SPAN_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct span;
struct span_tree;

struct span_tree *span_tree__new(FILE *out, bool color);
/* Spans of one thread arrive children first; the root's arrival completes
 * the trace, which is then printed. */
int span_tree__add(struct span_tree *t, const struct span *s);
/* Spans printed so far (a trace's spans wait for its root). */
uint64_t span_tree__printed(const struct span_tree *t);
/* Prints the traces still waiting for their root, marked incomplete. */
void span_tree__flush(struct span_tree *t);
void span_tree__free(struct span_tree *t);
/* " (probe: ~4.0 us of it, single-step)" after a duration the probes' own
 * cost dominates; nothing otherwise (shared with the lines output). */
void span__print_probe_note(FILE *out, const struct span *s);
/* "2026-05-01 14:03:07.123456" (local time) */
void format_wall_clock(uint64_t unix_ns, char *buf, size_t len);
void format_duration(uint64_t ns, char *buf, size_t len);

#endif
