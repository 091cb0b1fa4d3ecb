/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The `jsonl` output: one span per line in the OTLP/JSON span encoding. */
#ifndef SPANPROBE_JSONL_OUTPUT_H
#define SPANPROBE_JSONL_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

struct span;

/* Formats s as one JSON object (no newline) into buf; returns the length it
 * needs, like snprintf. */
size_t span__to_json(const struct span *s, char *buf, size_t len);
int jsonl_output__write(FILE *out, const struct span *s);

#endif
