// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* spanprobe: options and lifecycle. open -> rodata -> load -> rules -> attach
 * -> ring buffer -> poll until a signal (or the traced command's end) ->
 * drain -> flush outputs -> destroy. */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "child.h"
#include "config_file.h"
#include "elf_symbols.h"
#include "jsonl_output.h"
#include "metrics_server.h"
#include "otlp_exporter.h"
#include "preflight.h"
#include "probe_list.h"
#include "probe_spec.h"
#include "probe_table.h"
#include "python_probe.h"
#include "process_info.h"
#include "span.h"
#include "span_decode.h"
#include "span_event.h"
#include "span_tree.h"
#include "spanprobe.skel.h"
#include "version.h"

static struct options {
	pid_t pid;
	const char *cmd;
	bool list;
	bool dry_run;
	bool verbose;
	bool wait;
	bool out_tree, out_jsonl, out_otlp;
	const char *output_file;
	struct probe_spec *specs;
	size_t nspecs;
	struct error_rule *rules;
	size_t nrules;
	const char *endpoint, *protocol, *service_name;
	const char *ready_file;
	const char *metrics_addr;
} opts = { .pid = -1 };

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
	"  spanprobe -c 'python3.11 app.py' 'python:/usr/bin/python3.11:app.py:foo,goo,zoo'\n";
static const char args_doc[] = "PROBE...";

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
};

static const struct argp_option argp_options[] = {
	{ "pid", 'p', "PID", 0, "Trace only this process", 0 },
	{ "cmd", 'c', "CMD", 0, "Run CMD, trace only it, exit with its status", 0 },
	{ "list", 'l', NULL, 0, "List the functions PROBE matches, with their probe cost", 0 },
	{ "output", 'o', "FORMAT", 0, "tree (default), jsonl or otlp; repeatable", 0 },
	{ "output-file", OPT_OUTPUT_FILE, "FILE", 0, "Write tree/jsonl output to FILE", 0 },
	{ "error", OPT_ERROR, "FUNCS:COND", 0,
	  "Returns that count as errors: ret<N, ret<=N, ret==N, ret!=N, ret>N, ret>=N, NULL; repeatable", 0 },
	{ "endpoint", OPT_ENDPOINT, "URL", 0, "OTLP endpoint (overrides OTEL_EXPORTER_OTLP_*ENDPOINT)", 0 },
	{ "protocol", OPT_PROTOCOL, "PROTO", 0, "grpc or http/protobuf (overrides OTEL_EXPORTER_OTLP_*PROTOCOL)", 0 },
	{ "service-name", OPT_SERVICE_NAME, "NAME", 0, "service.name (overrides OTEL_SERVICE_NAME)", 0 },
	{ "dry-run", OPT_DRY_RUN, NULL, 0, "Resolve and attach, then exit", 0 },
	{ "wait", OPT_WAIT, NULL, 0, "Keep running while an absolute BINARY is found nowhere; attach when a process (a new container) has it", 0 },
	{ "config", OPT_CONFIG, "FILE", 0, "Read options from FILE: one long option a line ('probe P', 'error R', ...)", 0 },
	{ "metrics-addr", OPT_METRICS_ADDR, "HOST:PORT", 0, "Serve Prometheus metrics (probe hits, spans, losses, exports) there; off by default", 0 },
	{ "ready-file", OPT_READY_FILE, "FILE", 0, "Create FILE once attached (readiness checks); removed at exit", 0 },
	{ "verbose", 'v', NULL, 0, "libbpf debug output; with -l, why each cost", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{},
};

static int grow(void **array, size_t count, size_t size)
{
	void *grown = realloc(*array, (count + 1) * size);

	if (!grown)
		return -ENOMEM;
	*array = grown;
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char err[512];
	char *end;
	long pid;

	switch (key) {
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
	case 'v':
		opts.verbose = true;
		break;
	case 'p':
		errno = 0;
		pid = strtol(arg, &end, 10);
		if (errno || *end || pid <= 0 || pid > 0x3fffffff)
			argp_error(state, "invalid PID '%s' (a positive process id)", arg);
		opts.pid = pid;
		break;
	case 'c':
		opts.cmd = arg;
		break;
	case 'l':
		opts.list = true;
		break;
	case 'o':
		if (strcmp(arg, "tree") == 0)
			opts.out_tree = true;
		else if (strcmp(arg, "jsonl") == 0)
			opts.out_jsonl = true;
		else if (strcmp(arg, "otlp") == 0)
			opts.out_otlp = true;
		else
			argp_error(state, "unknown output '%s' (use tree, jsonl or otlp)", arg);
		break;
	case OPT_OUTPUT_FILE:
		opts.output_file = arg;
		break;
	case OPT_ERROR:
		if (grow((void **)&opts.rules, opts.nrules, sizeof(*opts.rules)))
			return ENOMEM;
		if (error_rule__parse(arg, &opts.rules[opts.nrules], err, sizeof(err)))
			argp_error(state, "%s", err);
		opts.nrules++;
		break;
	case OPT_ENDPOINT:
		opts.endpoint = arg;
		break;
	case OPT_PROTOCOL:
		opts.protocol = arg;
		break;
	case OPT_SERVICE_NAME:
		opts.service_name = arg;
		break;
	case OPT_DRY_RUN:
		opts.dry_run = true;
		break;
	case OPT_CONFIG:
		/* expanded before parsing; only reachable after "--" */
		argp_error(state, "--config can't come after '--'");
		break;
	case OPT_READY_FILE:
		opts.ready_file = arg;
		break;
	case OPT_WAIT:
		opts.wait = true;
		break;
	case OPT_METRICS_ADDR:
		opts.metrics_addr = arg;
		break;
	case ARGP_KEY_ARG:
		if (grow((void **)&opts.specs, opts.nspecs, sizeof(*opts.specs)))
			return ENOMEM;
		if (probe_spec__parse(arg, &opts.specs[opts.nspecs], err, sizeof(err)))
			argp_error(state, "%s", err);
		opts.nspecs++;
		break;
	case ARGP_KEY_END:
		if (opts.nspecs == 0)
			argp_error(state, "no PROBE given (e.g. spanprobe 'uprobe:./app:foo,goo')");
		if (opts.pid > 0 && opts.cmd)
			argp_error(state, "-p and -c exclude each other");
		if (!opts.out_tree && !opts.out_jsonl && !opts.out_otlp)
			opts.out_tree = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG && !opts.verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

static volatile sig_atomic_t exiting;

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

/* Everything the ring-buffer callback needs. */
struct run_state {
	/* The table grows when new containers appear; the metrics thread reads it. */
	pthread_mutex_t table_lock;
	struct probe_table *table;
	struct spanprobe_bpf *skel;
	struct attachment *attached;
	struct process_table *procs;
	int64_t mono_to_real;
	struct span_tree *tree;
	FILE *jsonl;
	struct otlp_exporter *otlp;
	/* written by the ring-buffer loop only; read by the metrics thread */
	uint64_t spans, errors, truncated;
	int output_error;
};

/* One writer: a relaxed atomic store keeps the metrics thread's reads sound. */
#define COUNT(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)

/* One finished span, uprobe or Python, to every output. */
static int output_span(void *ctx, const struct span *s)
{
	struct run_state *st = ctx;

	COUNT(st->spans, 1);
	COUNT(st->errors, s->error);
	COUNT(st->truncated, s->truncated);
	if (st->otlp)
		otlp_exporter__push(st->otlp, s);
	if (st->jsonl && jsonl_output__write(st->jsonl, s))
		st->output_error = -EIO;
	if (st->tree && span_tree__add(st->tree, s))
		st->output_error = -ENOMEM;
	/* a failed write (reader gone) stops the loop; the summary still prints */
	return st->output_error ? st->output_error : 0;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct run_state *st = ctx;
	struct span s;

	if (size < sizeof(struct span_event))
		return 0;
	if (span__from_event(&s, data, st->table, st->mono_to_real, st->procs))
		return 0;
	return output_span(st, &s);
}

static int load_rules_from(struct spanprobe_bpf *skel, const struct probe_table *t, size_t first);

/* A process exec'd while watching for container paths: trace the probed
 * files its mount namespace holds that are not traced yet. */
static int handle_exec(void *ctx, void *data, size_t size)
{
	struct run_state *st = ctx;
	size_t first_bin, first_func;
	pid_t pid;
	int n;

	if (size < sizeof(uint32_t))
		return 0;
	pid = *(uint32_t *)data;
	pthread_mutex_lock(&st->table_lock);
	n = probe_table__discover(st->table, pid, &first_bin, &first_func);
	pthread_mutex_unlock(&st->table_lock);
	if (n <= 0)
		return 0; /* nothing new, or the process is already gone */
	if (load_rules_from(st->skel, st->table, first_func))
		return 0;
	for (size_t i = first_bin; i < st->table->nbins; i++) {
		const struct traced_binary *b = st->table->bins[i];

		if (attach_binary(st->attached, st->table, b, st->skel->progs.span_enter,
				  st->skel->progs.span_exit, -1) == 0)
			fprintf(stderr, "spanprobe: tracing %s (%s, seen by process %d)\n", b->spec_name,
				b->path, pid);
	}
	return 0;
}

/* Sum of a per-CPU u64 array slot; 0 when it can't be read. */
static uint64_t sum_percpu(struct bpf_map *map, uint32_t key)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *values, sum = 0;

	if (ncpus <= 0)
		return 0;
	values = calloc(ncpus, sizeof(*values));
	if (!values)
		return 0;
	if (bpf_map__lookup_elem(map, &key, sizeof(key), values, sizeof(*values) * ncpus, 0) == 0)
		for (int c = 0; c < ncpus; c++)
			sum += values[c];
	free(values);
	return sum;
}

/* Prometheus text for --metrics-addr, on the metrics thread. */
static void collect_metrics(void *ctx, FILE *out)
{
	struct run_state *st = ctx;
	uint64_t k[STAT_MAX];
	struct otlp_stats os = {};

	fprintf(out, "# HELP spanprobe_probe_hits_total Calls of each traced function seen by its entry probe.\n"
		     "# TYPE spanprobe_probe_hits_total counter\n");
	pthread_mutex_lock(&st->table_lock);
	for (uint32_t i = 0; i < st->table->nfuncs; i++) {
		const struct traced_func *f = &st->table->funcs[i];

		/* names are C identifiers and paths: nothing to escape but quotes */
		fprintf(out, "spanprobe_probe_hits_total{function=\"%s\",binary=\"%s\"} %" PRIu64 "\n",
			f->sym->name, f->bin->spec_name, sum_percpu(st->skel->maps.func_hits, i));
	}
	pthread_mutex_unlock(&st->table_lock);
	for (uint32_t i = 0; i < STAT_MAX; i++)
		k[i] = sum_percpu(st->skel->maps.stats, i);
	fprintf(out, "# TYPE spanprobe_spans_total counter\nspanprobe_spans_total %" PRIu64 "\n"
		     "# TYPE spanprobe_span_errors_total counter\nspanprobe_span_errors_total %" PRIu64 "\n"
		     "# TYPE spanprobe_spans_truncated_total counter\nspanprobe_spans_truncated_total %" PRIu64 "\n",
		__atomic_load_n(&st->spans, __ATOMIC_RELAXED), __atomic_load_n(&st->errors, __ATOMIC_RELAXED),
		__atomic_load_n(&st->truncated, __ATOMIC_RELAXED));
	fprintf(out, "# HELP spanprobe_spans_lost_total Calls not turned into spans, by cause.\n"
		     "# TYPE spanprobe_spans_lost_total counter\n"
		     "spanprobe_spans_lost_total{cause=\"ring_buffer_full\"} %" PRIu64 "\n"
		     "spanprobe_spans_lost_total{cause=\"nesting_too_deep\"} %" PRIu64 "\n"
		     "spanprobe_spans_lost_total{cause=\"no_thread_slot\"} %" PRIu64 "\n",
		k[STAT_RINGBUF_DROPS], k[STAT_DEPTH_DROPS], k[STAT_STACK_DROPS]);
	if (st->otlp) {
		otlp_exporter__stats(st->otlp, &os);
		fprintf(out, "# TYPE spanprobe_otlp_spans_exported_total counter\nspanprobe_otlp_spans_exported_total %" PRIu64 "\n"
			     "# TYPE spanprobe_otlp_spans_dropped_total counter\nspanprobe_otlp_spans_dropped_total %" PRIu64 "\n"
			     "# TYPE spanprobe_otlp_spans_rejected_total counter\nspanprobe_otlp_spans_rejected_total %" PRIu64 "\n"
			     "# TYPE spanprobe_otlp_retries_total counter\nspanprobe_otlp_retries_total %" PRIu64 "\n"
			     "# TYPE spanprobe_otlp_failed_requests_total counter\nspanprobe_otlp_failed_requests_total %" PRIu64 "\n",
			os.exported, os.dropped, os.rejected, os.retries, os.failed_requests);
	}
}

/* "spanprobe: hits per function: foo 200, goo 200" at exit, when short enough to read. */
static void print_hits(struct spanprobe_bpf *skel, const struct probe_table *t)
{
	if (t->nfuncs == 0 || (t->nfuncs > 16 && !opts.verbose))
		return;
	fprintf(stderr, "spanprobe: hits per function:");
	for (uint32_t i = 0; i < t->nfuncs; i++)
		fprintf(stderr, "%s %s %" PRIu64, i ? "," : "", t->funcs[i].sym->name,
			sum_percpu(skel->maps.func_hits, i));
	fputc('\n', stderr);
}

static int load_rules_from(struct spanprobe_bpf *skel, const struct probe_table *t, size_t first)
{
	for (uint32_t i = first; i < t->nfuncs; i++) {
		int err = bpf_map__update_elem(skel->maps.func_rules, &i, sizeof(i), &t->funcs[i].rule,
					       sizeof(t->funcs[i].rule), 0);
		if (err) {
			fprintf(stderr, "spanprobe: can't store the rule of %s: %s\n",
				t->funcs[i].sym->name, strerror(-err));
			return err;
		}
	}
	return 0;
}

static bool has_absolute_uprobe(const struct probe_spec *specs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (specs[i].kind == PROBE_UPROBE && specs[i].binary[0] == '/')
			return true;
	return false;
}

static double elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1e3 + (now.tv_nsec - since->tv_nsec) / 1e6;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { argp_options, parse_arg, args_doc, doc, NULL, NULL, NULL };
	struct probe_table table = {};
	struct attachment attached = {};
	struct spanprobe_bpf *skel = NULL;
	struct python_probe *py = NULL;
	bool has_python = false;
	struct ring_buffer *rb = NULL;
	struct run_state st = { .table_lock = PTHREAD_MUTEX_INITIALIZER };
	struct metrics_server *metrics = NULL;
	struct otlp_config otlp_cfg = {};
	bool otlp_cfg_set = false;
	struct child child = { .pid = -1, .go_fd = -1, .exec_err_fd = -1 };
	uint64_t kstats[STAT_MAX] = {};
	struct timespec t0;
	FILE *out_file = NULL;
	pid_t target = -1;
	bool multi, running = false, ready_made = false;
	char **args = NULL;
	int args_count = 0;
	int exit_code = 1;
	int err;

	/* messages name the tool, not the path it was run by */
	program_invocation_name = program_invocation_short_name;
	argv[0] = program_invocation_short_name; /* getopt prints argv[0] */
	err = config_file__expand(argc, argv, &args_count, &args);
	if (err)
		return 1;
	err = argp_parse(&argp, args_count, args, 0, NULL, NULL);
	if (err) {
		config_file__free_argv(args_count, args, argv);
		return 1;
	}
	libbpf_set_print(libbpf_print_fn);

	if (opts.pid > 0) {
		err = check_process_exists(opts.pid);
		if (err)
			goto cleanup;
	}
	err = probe_table__resolve(&table, opts.specs, opts.nspecs, opts.pid, opts.wait && !opts.list);
	if (err)
		goto cleanup;
	if (opts.list) {
		probe_list__print(stdout, &table, opts.verbose);
		exit_code = 0;
		goto cleanup;
	}
	for (size_t i = 0; i < opts.nspecs; i++)
		has_python |= opts.specs[i].kind == PROBE_PYTHON;
	if (table.nfuncs == 0 && !table.pending && !has_python) {
		fprintf(stderr, "spanprobe: no PROBE given\n");
		goto cleanup;
	}
	err = probe_table__apply_rules(&table, opts.rules, opts.nrules);
	if (err)
		goto cleanup;
	err = preflight_check();
	if (err)
		goto cleanup;
	if (opts.pid > 0)
		target = opts.pid;

	if (opts.output_file) {
		out_file = fopen(opts.output_file, "w");
		if (!out_file) {
			err = -errno;
			fprintf(stderr, "spanprobe: can't write %s: %s\n", opts.output_file, strerror(errno));
			goto cleanup;
		}
	}
	if (opts.out_otlp) {
		err = otlp_config__from_env(&otlp_cfg, opts.endpoint, opts.protocol, opts.service_name);
		if (err)
			goto cleanup;
		otlp_cfg_set = true;
	}

	/* Start the command held before exec, so its first calls are traced. */
	if (opts.cmd) {
		err = child__spawn_held(&child, opts.cmd);
		if (err)
			goto cleanup;
		target = child.pid;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	skel = spanprobe_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "spanprobe: can't open the BPF object: %s\n", strerror(errno));
		goto cleanup;
	}
	skel->rodata->target_tgid = target > 0 ? (uint32_t)target : 0;
	skel->rodata->watch_execs = target <= 0 && has_absolute_uprobe(opts.specs, opts.nspecs);
	multi = uprobe_multi_supported();
	if (multi) {
		bpf_program__set_expected_attach_type(skel->progs.span_enter, BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.span_exit, BPF_TRACE_UPROBE_MULTI);
	}
	err = spanprobe_bpf__load(skel);
	if (err) {
		if (err == -EPERM)
			fprintf(stderr, "spanprobe: the kernel refused to load BPF programs: run as root, "
				"or grant CAP_BPF and CAP_PERFMON\n");
		else
			fprintf(stderr, "spanprobe: can't load the BPF programs: %s (run with -v for "
				"the verifier's log)\n", strerror(-err));
		goto cleanup;
	}
	err = load_rules_from(skel, &table, 0);
	if (err)
		goto cleanup;
	err = attach_probes(&attached, &table, skel->progs.span_enter, skel->progs.span_exit, target,
			    multi);
	if (err)
		goto cleanup;
	err = python_probe__load(opts.specs, opts.nspecs, target, &py);
	if (err)
		goto cleanup;
	if (py) {
		err = python_probe__attach(py, target);
		if (err)
			goto cleanup;
		if (opts.verbose || opts.dry_run)
			python_probe__describe(py, stderr);
	}
	err = spanprobe_bpf__attach(skel); /* the thread-exit tracepoint */
	if (err) {
		fprintf(stderr, "spanprobe: can't attach the thread-exit tracepoint: %s\n",
			strerror(-err));
		goto cleanup;
	}
	if (opts.verbose || opts.dry_run)
		fprintf(stderr, "spanprobe: attached %zu functions in %zu files (%s links) in %.1f ms\n",
			table.nfuncs, table.nbins, multi ? "uprobe_multi" : "per-function",
			elapsed_ms(&t0));
	if (opts.dry_run) {
		exit_code = 0;
		goto cleanup;
	}

	st.table = &table;
	st.skel = skel;
	st.attached = &attached;
	st.mono_to_real = monotonic_to_realtime_offset();
	st.procs = process_table__new();
	if (!st.procs) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (opts.out_tree) {
		FILE *f = out_file ? out_file : stdout;

		st.tree = span_tree__new(f, !out_file && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
		if (!st.tree) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	if (opts.out_jsonl)
		st.jsonl = out_file ? out_file : stdout;
	if (opts.out_otlp) {
		err = otlp_exporter__new(&otlp_cfg, &st.otlp);
		if (err)
			goto cleanup;
	}
	if (opts.metrics_addr) {
		err = metrics_server__start(opts.metrics_addr, collect_metrics, &st, &metrics);
		if (err)
			goto cleanup;
		fprintf(stderr, "spanprobe: metrics on http://%.*s:%d/metrics\n",
			(int)(strrchr(opts.metrics_addr, ':') - opts.metrics_addr), opts.metrics_addr,
			metrics_server__port(metrics));
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, &st, NULL);
	if (!rb || ring_buffer__add(rb, bpf_map__fd(skel->maps.execs), handle_exec, &st)) {
		err = -errno;
		fprintf(stderr, "spanprobe: can't open the ring buffer: %s\n", strerror(errno));
		goto cleanup;
	}
	if (py) {
		err = python_probe__add_ring(py, &rb, output_span, &st, st.mono_to_real, st.procs);
		if (err)
			goto cleanup;
	}

	signal(SIGINT, sig_handler);
	signal(SIGTERM, sig_handler);
	signal(SIGPIPE, SIG_IGN);
	if (opts.cmd) {
		err = child__release(&child);
		if (err) {
			exit_code = 127; /* as a shell says "command not found" */
			goto cleanup;
		}
	} else if (!opts.verbose) {
		fprintf(stderr, "spanprobe: tracing %zu functions%s%s; Ctrl-C to stop\n", table.nfuncs,
			target > 0 ? " in one process" : "",
			table.pending ? " (and watching for the paths not found yet)" : "");
	}

	if (opts.ready_file) {
		FILE *ready = fopen(opts.ready_file, "w");

		if (!ready) {
			err = -errno;
			fprintf(stderr, "spanprobe: can't create the ready file %s: %s\n", opts.ready_file,
				strerror(errno));
			goto cleanup;
		}
		fprintf(ready, "%d\n", getpid());
		fclose(ready);
		ready_made = true;
	}
	running = true;
	while (!exiting && !st.output_error) {
		/* The kernel side wakes us only for batches: also drain whatever
		 * arrived without a wakeup, every 100 ms. */
		err = ring_buffer__poll(rb, 100 /* ms */);
		if (err >= 0)
			err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR && !st.output_error) {
			fprintf(stderr, "spanprobe: reading the ring buffer failed: %s\n", strerror(-err));
			goto cleanup;
		}
		if (opts.cmd && child__reap(&child, false))
			break;
		if (opts.pid > 0 && check_process_alive(opts.pid) != 0)
			break;
	}
	/* Stopped by a signal while the command runs: end it, as its tracer. */
	if (opts.cmd)
		child__terminate(&child);
	/* Detach so nothing new arrives, then drain what is queued. */
	attachment__destroy(&attached);
	python_probe__detach(py);
	ring_buffer__consume(rb);
	exit_code = opts.cmd ? child.exit_status : 0;
	err = 0;

cleanup:
	metrics_server__stop(metrics);
	if (st.tree)
		span_tree__flush(st.tree);
	if (st.jsonl)
		fflush(st.jsonl);
	if (st.otlp)
		otlp_exporter__shutdown(st.otlp);
	if (running) {
		struct otlp_stats os = {};

		for (uint32_t k = 0; k < STAT_MAX; k++)
			kstats[k] = sum_percpu(skel->maps.stats, k);
		python_probe__add_stats(py, kstats);
		if (st.otlp)
			otlp_exporter__stats(st.otlp, &os);
		fprintf(stderr,
			"spanprobe: %" PRIu64 " spans (%" PRIu64 " errors, %" PRIu64 " truncated); "
			"lost %" PRIu64 " (ring buffer full %" PRIu64 ", nesting > %d %" PRIu64
			", no thread slot %" PRIu64 ")",
			st.spans, st.errors, st.truncated,
			kstats[STAT_RINGBUF_DROPS] + kstats[STAT_DEPTH_DROPS] + kstats[STAT_STACK_DROPS],
			kstats[STAT_RINGBUF_DROPS], SPAN_MAX_DEPTH, kstats[STAT_DEPTH_DROPS],
			kstats[STAT_STACK_DROPS]);
		if (st.otlp)
			fprintf(stderr, "; OTLP exported %" PRIu64 ", dropped %" PRIu64
				", rejected %" PRIu64 ", retries %" PRIu64,
				os.exported, os.dropped, os.rejected, os.retries);
		fputc('\n', stderr);
		print_hits(skel, &table);
	}
	if (err && exit_code == 0)
		exit_code = 1;
	if (!running && exit_code == 0 && !opts.list && !opts.dry_run)
		exit_code = 1;
	ring_buffer__free(rb);
	otlp_exporter__free(st.otlp);
	span_tree__free(st.tree);
	process_table__free(st.procs);
	attachment__destroy(&attached);
	spanprobe_bpf__destroy(skel);
	python_probe__free(py);
	child__terminate(&child);
	if (out_file)
		fclose(out_file);
	if (otlp_cfg_set)
		otlp_config__release(&otlp_cfg);
	if (ready_made)
		unlink(opts.ready_file);
	probe_table__release(&table);
	for (size_t i = 0; i < opts.nspecs; i++)
		probe_spec__release(&opts.specs[i]);
	free(opts.specs);
	for (size_t i = 0; i < opts.nrules; i++)
		error_rule__release(&opts.rules[i]);
	free(opts.rules);
	config_file__free_argv(args_count, args, argv);
	return exit_code;
}
