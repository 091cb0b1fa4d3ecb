/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The command line (and the config files it names), parsed from the option
 * table into what one run needs. */
#ifndef SPANPROBE_OPTIONS_H
#define SPANPROBE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "filter_spec.h"
#include "outputs.h"

struct probe_spec;
struct selection;
struct pod_filter;
struct error_rule;
struct arg_rule;

/* --summary / --no-summary; by default the summary follows a flood */
enum summary_mode { SUMMARY_AUTO, SUMMARY_ON, SUMMARY_OFF };

struct options {
	pid_t pid;                 /* -p, or -1 */
	const char *cmd;           /* -c, or NULL */
	bool list, dry_run, verbose, wait, no_follow;
	struct output_opts out;
	struct probe_spec *specs;
	size_t nspecs;
	struct error_rule *rules;
	size_t nrules;
	struct arg_rule *arg_rules;  /* --arg */
	size_t narg_rules;
	enum summary_mode summary;
	unsigned top;                /* --top: functions in the summary; 0: all */
	uint64_t min_duration_ns;    /* --min-duration; 0: off */
	bool errors_only;
	struct sampler sampler;      /* OTEL_TRACES_SAMPLER(_ARG) */
	struct selection *selection; /* --exe: made on the first one */
	struct pod_filter *pod_filter; /* --namespace, --pod-selector, --container */
	const char *pod_option;      /* the first of those given, for messages */
	const char *ready_file;
	const char *metrics_addr;
	int returns;               /* --return-probes: enum return_choice */
	uint64_t ring_buffer_bytes; /* --ring-buffer; 0: the default */
	/* Kubernetes (node_pods.h) */
	const char *node_name, *kube_api, *kube_token_file, *kube_ca_file, *kube_context;
	/* the argument vector after --config expansion (owns the strings above) */
	int argc;
	char **argv, **orig_argv;
};

/* Returns 0, or the exit status to end with (argp's usage status 64, or 1)
 * after printing the error. */
int options__parse(int argc, char **argv, struct options *o);
void options__release(struct options *o);

#endif
