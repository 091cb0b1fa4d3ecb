/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* python:INTERPRETER:FILES:FUNCS probes as a probe source (probe_source.h):
 * a thin adapter over user/python/python_probe.h. */
#ifndef SPANPROBE_PYTHON_SOURCE_H
#define SPANPROBE_PYTHON_SOURCE_H

#include "probe_source.h"

struct python_probe;

extern const struct probe_source_ops python_source;

/* The python: probes resolved (NULL: none), from the source's state. */
const struct python_probe *python_source__probe(const void *state);

#endif
