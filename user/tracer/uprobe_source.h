/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* uprobe:FILE:FUNCS probes: function entries and returns (bpf/uprobe_calls.bpf.c),
 * with the exception hooks of the files whose returns are seen at their
 * exits; a probe source (probe_source.h) over user/probes/. */
#ifndef SPANPROBE_UPROBE_SOURCE_H
#define SPANPROBE_UPROBE_SOURCE_H

#include "probe_source.h"

extern const struct probe_source_ops uprobe_source;

#endif
