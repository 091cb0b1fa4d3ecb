// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The tracer's settings from the options (see tracer_config.h). */
#include <stdbool.h>
#include <unistd.h>

#include "options.h"
#include "tracer.h"
#include "tracer_config.h"

/* -c with span output on a standard output that is a pipe or a file (read
 * by a program: jq, a log): the command's own output would mix into it, so
 * it goes to standard error. On a terminal both share it, as bpftrace does. */
static bool command_output_to_stderr(const struct options *o)
{
	return o->cmd && !o->list && !o->out.file &&
	       (o->out.tree || o->out.jsonl || o->out.lines || o->out.summary) &&
	       !isatty(STDOUT_FILENO);
}

/* Nothing but the summary: the kernel sends no span record at all. */
static bool summary_only(const struct options *o)
{
	return o->out.summary && !o->out.tree && !o->out.jsonl && !o->out.otlp && !o->out.lines;
}

void tracer_config__from_options(const struct options *o, struct pod_watch *pods,
				 struct tracer_opts *out)
{
	*out = (struct tracer_opts){
		.specs = o->specs, .nspecs = o->nspecs,
		.rules = o->rules, .nrules = o->nrules,
		.pid = o->pid, .cmd = o->cmd, .wait = o->wait,
		.follow = !o->no_follow, .selection = o->selection,
		.cmd_stdout_to_stderr = command_output_to_stderr(o),
		.verbose = o->verbose, .dry_run = o->dry_run, .list = o->list,
		.returns = o->returns,
		.ring_buffer_bytes = o->ring_buffer_bytes,
		.arg_rules = o->arg_rules, .narg_rules = o->narg_rules,
		.summary_only = summary_only(o),
		.no_stats = o->summary == SUMMARY_OFF,
		.min_duration_ns = o->min_duration_ns,
		.errors_only = o->errors_only,
		.sample_mode = o->sampler.mode,
		.sample_threshold = o->sampler.threshold,
		.pods = pods,
	};
}
