/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one list of spanprobe's options. The command line (argp), --help, the
 * config file's keys and the config file's error messages are all read from
 * it, so "the config file is the command line" holds by construction. */
#ifndef SPANPROBE_OPTION_TABLE_H
#define SPANPROBE_OPTION_TABLE_H

#include <stdbool.h>
#include <stddef.h>

/* Keys of options with no short form. */
enum {
	OPT_ERROR = 1000,
	OPT_DRY_RUN,
	OPT_OUTPUT_FILE,
	OPT_ENDPOINT,
	OPT_PROTOCOL,
	OPT_SERVICE_NAME,
	OPT_CONFIG,
	OPT_READY_FILE,
	OPT_WAIT,
	OPT_METRICS_ADDR,
	OPT_RETURN_PROBES,
	OPT_NO_FOLLOW,
	OPT_EXE,
	OPT_ARG,
	OPT_SUMMARY,
	OPT_NO_SUMMARY,
	OPT_TOP,
	OPT_MIN_DURATION,
	OPT_ERRORS_ONLY,
	OPT_NODE_NAME,
	OPT_KUBE_API,
	OPT_KUBE_TOKEN_FILE,
	OPT_KUBE_CA_FILE,
	OPT_KUBE_CONTEXT,
	OPT_RING_BUFFER,
	OPT_NAMESPACE,
	OPT_POD_SELECTOR,
	OPT_CONTAINER,
};

struct option_def {
	const char *name;  /* long option, and the config-file key */
	int key;           /* short option character, or OPT_* */
	const char *arg;   /* the value's name in --help; NULL: a flag */
	const char *help;
	bool cli_only;     /* not a config-file key (--config, -l) */
};

extern const struct option_def option_defs[];
extern const size_t option_defs_count;

/* The config-file key for the PROBE arguments. */
#define CONFIG_PROBE_KEY "probe"

/* The option named name, or NULL. */
const struct option_def *option_def__find(const char *name);
/* "probe, error, output, ..." : every config-file key, for messages. */
const char *option_def__config_keys(void);

#endif
