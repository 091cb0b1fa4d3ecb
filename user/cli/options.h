/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The command line (and the config files it names), parsed from the option
 * table into what one run needs. */
#ifndef SPANPROBE_OPTIONS_H
#define SPANPROBE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "outputs.h"

struct probe_spec;
struct selection;
struct error_rule;

struct options {
	pid_t pid;                 /* -p, or -1 */
	const char *cmd;           /* -c, or NULL */
	bool list, dry_run, verbose, wait, no_follow;
	struct output_opts out;
	struct probe_spec *specs;
	size_t nspecs;
	struct error_rule *rules;
	size_t nrules;
	struct selection *selection; /* --exe, ...: made on the first selector */
	const char *ready_file;
	const char *metrics_addr;
	int returns;               /* --return-probes: enum return_choice */
	/* the argument vector after --config expansion (owns the strings above) */
	int argc;
	char **argv, **orig_argv;
};

/* Returns 0, or the exit status to end with (argp's usage status 64, or 1)
 * after printing the error. */
int options__parse(int argc, char **argv, struct options *o);
void options__release(struct options *o);

#endif
