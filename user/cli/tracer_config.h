/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the tracer is asked to do, from the command line's options. */
#ifndef SPANPROBE_TRACER_CONFIG_H
#define SPANPROBE_TRACER_CONFIG_H

struct options;
struct pod_watch;
struct tracer_opts;

/* Fills out from o (which it borrows: o outlives the tracer); pods may be NULL. */
void tracer_config__from_options(const struct options *o, struct pod_watch *pods,
				 struct tracer_opts *out);

#endif
