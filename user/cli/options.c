// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* argp over the option table: the argp_option array is made from
 * option_defs, so --help and the config file list the same options. */
#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arg_spec.h"
#include "config_file.h"
#include "option_table.h"
#include "options.h"
#include "pod_filter.h"
#include "probe_spec.h"
#include "return_rule.h"
#include "selection.h"
#include "version.h"

const char *argp_program_version = "spanprobe " SPANPROBE_VERSION;
const char *argp_program_bug_address = "the spanprobe issue tracker";
static const char doc[] =
	"Trace calls of functions in unmodified programs as OpenTelemetry spans.\n"
	"\n"
	"PROBE is uprobe:BINARY:FUNCS, FUNCS a comma list of names or shell globs,\n"
	"or python:INTERPRETER:FILES:FUNCS for Python functions (FILES a glob matched\n"
	"against the end of the source path).\n"
	"An absolute BINARY is also looked up inside containers (through /proc/PID/root),\n"
	"now and as new processes start.\n"
	"\n"
	"EXAMPLES:\n"
	"  spanprobe 'uprobe:./app:foo,goo,zoo'           # every process running ./app\n"
	"  spanprobe -p 1234 'uprobe:./app:foo,goo,zoo'   # only PID 1234\n"
	"  spanprobe -c './app --requests 10' --error 'goo:ret<0' 'uprobe:./app:foo,goo,zoo'\n"
	"  spanprobe -o jsonl -o otlp 'uprobe:libc:malloc' # JSON lines and OTLP export\n"
	"  spanprobe -l 'uprobe:./app:*'                  # list functions and probe cost\n"
	"  spanprobe -c 'python3.11 app.py' 'python:/usr/bin/python3.11:app.py:foo,goo,zoo'\n"
	"\n"
	"Every long option is also a config-file key (--config FILE; 'probe P' for a PROBE).\n";
static const char args_doc[] = "PROBE...";

static int grow(void **array, size_t count, size_t size)
{
	void *grown = realloc(*array, (count + 1) * size);

	if (!grown)
		return -ENOMEM;
	*array = grown;
	return 0;
}

/* "4M", "512K", "1G" or bytes: a power of two from a page to 1 GiB (the
 * kernel's rule for a BPF ring buffer, and its cap here). */
static int ring_size__parse(const char *text, uint64_t *bytes, char *err, size_t errlen)
{
	uint64_t v, unit = 1, page = (uint64_t)sysconf(_SC_PAGESIZE);
	char *end;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (*end == 'K' || *end == 'k')
		unit = 1ULL << 10;
	else if (*end == 'M' || *end == 'm')
		unit = 1ULL << 20;
	else if (*end == 'G' || *end == 'g')
		unit = 1ULL << 30;
	if (unit > 1)
		end++;
	if (errno || end == text || *end || !isdigit((unsigned char)text[0])) {
		snprintf(err, errlen, "bad size '%s': expected a number with K, M or G (e.g. 4M)", text);
		return -EINVAL;
	}
	v = v > (1ULL << 30) / unit ? UINT64_MAX : v * unit;
	if (v < page || v > (1ULL << 30) || (v & (v - 1))) {
		snprintf(err, errlen, "bad size '%s': must be a power of two from %llu bytes to 1G "
			 "(e.g. 4M, 16M)", text, (unsigned long long)page);
		return -EINVAL;
	}
	*bytes = v;
	return 0;
}

/* --namespace, --pod-selector, --container: into the pod filter. */
static int add_pod_criterion(struct options *o, int key, const char *arg, char *err, size_t len)
{
	const char *name = key == OPT_NAMESPACE ? "--namespace" : key == OPT_POD_SELECTOR ?
			   "--pod-selector" : "--container";
	char why[448];
	int rc;

	if (!o->pod_filter && !(o->pod_filter = pod_filter__new()))
		return -ENOMEM;
	if (!o->pod_option)
		o->pod_option = name;
	rc = key == OPT_NAMESPACE ? pod_filter__add_namespace(o->pod_filter, arg, why, sizeof(why))
	     : key == OPT_POD_SELECTOR ? pod_filter__set_selector(o->pod_filter, arg, why, sizeof(why))
	     : pod_filter__add_container(o->pod_filter, arg, why, sizeof(why));
	if (rc)
		snprintf(err, len, "%s: %s", name, why);
	return rc;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	struct options *o = state->input;
	char err[512];
	char *end;
	long pid;

	switch (key) {
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
	case 'v':
		o->verbose = true;
		break;
	case 'p':
		errno = 0;
		pid = strtol(arg, &end, 10);
		if (errno || *end || pid <= 0 || pid > 0x3fffffff)
			argp_error(state, "invalid PID '%s' (a positive process id)", arg);
		o->pid = pid;
		break;
	case 'c':
		o->cmd = arg;
		break;
	case 'l':
		o->list = true;
		break;
	case 'o':
		if (strcmp(arg, "tree") == 0)
			o->out.tree = true;
		else if (strcmp(arg, "jsonl") == 0)
			o->out.jsonl = true;
		else if (strcmp(arg, "otlp") == 0)
			o->out.otlp = true;
		else if (strcmp(arg, "lines") == 0)
			o->out.lines = true;
		else if (strcmp(arg, "summary") == 0)
			o->out.summary = true;
		else
			argp_error(state, "unknown output '%s' (use tree, lines, jsonl, otlp or summary)",
				   arg);
		break;
	case OPT_ARG:
		if (grow((void **)&o->arg_rules, o->narg_rules, sizeof(*o->arg_rules)))
			return ENOMEM;
		if (arg_rule__parse(arg, &o->arg_rules[o->narg_rules], err, sizeof(err)))
			argp_error(state, "%s", err);
		o->narg_rules++;
		break;
	case OPT_SUMMARY:
		if (o->summary == SUMMARY_OFF)
			argp_error(state, "--summary and --no-summary exclude each other");
		o->summary = SUMMARY_ON;
		break;
	case OPT_NO_SUMMARY:
		if (o->summary == SUMMARY_ON)
			argp_error(state, "--summary and --no-summary exclude each other");
		o->summary = SUMMARY_OFF;
		break;
	case OPT_TOP:
		errno = 0;
		pid = strtol(arg, &end, 10);
		if (errno || *end || end == arg || pid < 0 || pid > 100000)
			argp_error(state, "invalid --top '%s' (a count of functions, 0 for all)", arg);
		o->top = (unsigned)pid;
		break;
	case OPT_MIN_DURATION:
		if (duration__parse(arg, &o->min_duration_ns, err, sizeof(err)))
			argp_error(state, "--min-duration: %s", err);
		if (!o->min_duration_ns)
			argp_error(state, "--min-duration: 0 keeps everything (leave it out instead)");
		break;
	case OPT_ERRORS_ONLY:
		o->errors_only = true;
		break;
	case OPT_OUTPUT_FILE:
		o->out.file = arg;
		break;
	case OPT_ERROR:
		if (grow((void **)&o->rules, o->nrules, sizeof(*o->rules)))
			return ENOMEM;
		if (error_rule__parse(arg, &o->rules[o->nrules], err, sizeof(err)))
			argp_error(state, "%s", err);
		o->nrules++;
		break;
	case OPT_ENDPOINT:
		o->out.endpoint = arg;
		break;
	case OPT_PROTOCOL:
		o->out.protocol = arg;
		break;
	case OPT_SERVICE_NAME:
		o->out.service_name = arg;
		break;
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case OPT_CONFIG:
		/* expanded before parsing; only reachable after "--" */
		argp_error(state, "--config can't come after '--'");
		break;
	case OPT_READY_FILE:
		o->ready_file = arg;
		break;
	case OPT_WAIT:
		o->wait = true;
		break;
	case OPT_NO_FOLLOW:
		o->no_follow = true;
		break;
	case OPT_EXE:
		if (!o->selection && !(o->selection = selection__new()))
			return ENOMEM;
		if (selection__add_exe(o->selection, arg))
			argp_failure(state, 64, 0, "bad --exe");
		break;
	case OPT_NAMESPACE:
	case OPT_POD_SELECTOR:
	case OPT_CONTAINER: {
		int rc = add_pod_criterion(o, key, arg, err, sizeof(err));

		if (rc == -ENOMEM)
			return ENOMEM;
		if (rc)
			argp_failure(state, 64, 0, "%s", err);
		break;
	}
	case OPT_METRICS_ADDR:
		o->metrics_addr = arg;
		break;
	case OPT_RETURN_PROBES: {
		enum return_choice c;

		if (return_choice__parse(arg, &c))
			argp_error(state, "unknown --return-probes '%s' (use auto, exits or uretprobe)",
				   arg);
		o->returns = c;
		break;
	}
	case OPT_NODE_NAME:
		o->node_name = arg;
		break;
	case OPT_KUBE_API:
		o->kube_api = arg;
		break;
	case OPT_KUBE_TOKEN_FILE:
		o->kube_token_file = arg;
		break;
	case OPT_KUBE_CA_FILE:
		o->kube_ca_file = arg;
		break;
	case OPT_KUBE_CONTEXT:
		o->kube_context = arg;
		break;
	case OPT_RING_BUFFER:
		if (ring_size__parse(arg, &o->ring_buffer_bytes, err, sizeof(err)))
			argp_error(state, "--ring-buffer: %s", err);
		break;
	case ARGP_KEY_ARG:
		if (grow((void **)&o->specs, o->nspecs, sizeof(*o->specs)))
			return ENOMEM;
		if (probe_spec__parse(arg, &o->specs[o->nspecs], err, sizeof(err)))
			argp_error(state, "%s", err);
		o->nspecs++;
		break;
	case ARGP_KEY_END:
		if (o->nspecs == 0)
			argp_error(state, "no PROBE given (e.g. spanprobe 'uprobe:./app:foo,goo')");
		if (o->pid > 0 && o->cmd)
			argp_error(state, "-p and -c exclude each other");
		if (o->selection && (o->pid > 0 || o->cmd))
			argp_error(state, "--exe chooses among every process: it can't go with -p or -c");
		if (o->pod_filter && (o->pid > 0 || o->cmd))
			argp_error(state, "%s chooses among every process: it can't go with -p or -c",
				   o->pod_option);
		if (!o->out.tree && !o->out.jsonl && !o->out.otlp && !o->out.lines &&
		    !o->out.summary)
			o->out.tree = true;
		if (o->out.summary && o->summary == SUMMARY_OFF)
			argp_error(state, "-o summary and --no-summary exclude each other");
		if (sampler__from_env(getenv("OTEL_TRACES_SAMPLER"), getenv("OTEL_TRACES_SAMPLER_ARG"),
				      &o->sampler, err, sizeof(err)))
			argp_failure(state, 64, 0, "%s", err);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* argp's table, made from option_defs (plus a hidden -h). */
static struct argp_option *argp_options_new(void)
{
	struct argp_option *a = calloc(option_defs_count + 2, sizeof(*a));

	if (!a)
		return NULL;
	for (size_t i = 0; i < option_defs_count; i++) {
		a[i].name = option_defs[i].name;
		a[i].key = option_defs[i].key;
		a[i].arg = option_defs[i].arg;
		a[i].doc = option_defs[i].help;
	}
	a[option_defs_count] = (struct argp_option){ .key = 'h', .flags = OPTION_HIDDEN,
						     .doc = "Show the full help" };
	return a;
}

int options__parse(int argc, char **argv, struct options *o)
{
	struct argp_option *table = argp_options_new();
	struct argp argp = { table, parse_arg, args_doc, doc, NULL, NULL, NULL };
	int err;

	memset(o, 0, sizeof(*o));
	o->pid = -1;
	o->top = 10;
	o->orig_argv = argv;
	if (!table)
		return 1;
	err = config_file__expand(argc, argv, &o->argc, &o->argv);
	if (err) {
		o->argv = NULL;
		free(table);
		return 1;
	}
	err = argp_parse(&argp, o->argc, o->argv, 0, NULL, o);
	free(table);
	return err ? 1 : 0;
}

void options__release(struct options *o)
{
	for (size_t i = 0; i < o->nspecs; i++)
		probe_spec__release(&o->specs[i]);
	free(o->specs);
	for (size_t i = 0; i < o->nrules; i++)
		error_rule__release(&o->rules[i]);
	free(o->rules);
	for (size_t i = 0; i < o->narg_rules; i++)
		arg_rule__release(&o->arg_rules[i]);
	free(o->arg_rules);
	selection__free(o->selection);
	pod_filter__free(o->pod_filter);
	config_file__free_argv(o->argc, o->argv, o->orig_argv);
}
