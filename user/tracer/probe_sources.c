// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The probe sources the tracer runs, in the order it runs them
 * (probe_source.h): a new source is added here, and nowhere else. */
#include "probe_source.h"
#include "python_source.h"
#include "uprobe_source.h"

const struct probe_source_ops *const probe_sources[] = {
	&uprobe_source,
	&python_source,
};
const size_t nprobe_sources = sizeof(probe_sources) / sizeof(probe_sources[0]);

_Static_assert(sizeof(probe_sources) / sizeof(probe_sources[0]) <= PROBE_SOURCES_MAX,
	       "raise PROBE_SOURCES_MAX (probe_source.h)");
