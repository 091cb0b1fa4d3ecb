// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* spanprobe: parse the options, then run the tracer (user/tracer/tracer.h)
 * into the outputs, and report. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <bpf/libbpf.h>

#include "call_summary.h"
#include "metrics_server.h"
#include "node_pods.h"
#include "options.h"
#include "outputs.h"
#include "pod_selection.h"
#include "probe_list.h"
#include "python_probe.h"
#include "report.h"
#include "selection.h"
#include "tracer.h"

static struct options opts;
static volatile sig_atomic_t exiting;

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

/* From the start, so a Ctrl-C during a long attach still ends in a summary. */
static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = sig_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG && !opts.verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

static int write_span(void *ctx, const struct span *s)
{
	return outputs__write(ctx, s);
}

static int flush_lines(void *ctx)
{
	return outputs__flush_lines(ctx);
}

/* -c with span output on a standard output that is a pipe or a file (read
 * by a program: jq, a log): the command's own output would mix into it, so
 * it goes to standard error. On a terminal both share it, as bpftrace does. */
static bool command_output_to_stderr(void)
{
	return opts.cmd && !opts.list && !opts.out.file &&
	       (opts.out.tree || opts.out.jsonl || opts.out.lines || opts.out.summary) &&
	       !isatty(STDOUT_FILENO);
}

/* Nothing but the summary: the kernel sends no span record at all. */
static bool summary_only(void)
{
	return opts.out.summary && !opts.out.tree && !opts.out.jsonl && !opts.out.otlp &&
	       !opts.out.lines;
}

/* The summary at exit: asked for (-o summary, --summary), or by default
 * after tree or lines output flooded more than OUTPUTS_FLOOD_TRACES traces. */
static void print_summary(struct tracer *tracer, struct outputs *outputs)
{
	struct func_stats *fs;
	size_t n;

	if (opts.summary == SUMMARY_OFF)
		return;
	if (!opts.out.summary && opts.summary != SUMMARY_ON && !outputs__flooded(outputs))
		return;
	if (tracer__func_stats(tracer, &fs, &n)) {
		fprintf(stderr, "spanprobe: no memory for the summary\n");
		return;
	}
	call_summary__print(outputs__summary_stream(outputs), fs, n, opts.top);
	free(fs);
}

static int make_ready_file(const char *path)
{
	FILE *ready = fopen(path, "w");

	if (!ready) {
		int err = -errno;

		fprintf(stderr, "spanprobe: can't create the ready file %s: %s\n", path,
			strerror(errno));
		return err;
	}
	fprintf(ready, "%d\n", getpid());
	fclose(ready);
	return 0;
}

/* --namespace, --pod-selector, --container: processes are chosen by their
 * pod, an extra test of the selection (made here when no --exe made one). */
static int make_pod_selection(struct pod_selection **out)
{
	*out = NULL;
	if (!opts.pod_filter || opts.list)
		return 0;
	if (!opts.selection && !(opts.selection = selection__new()))
		return -ENOMEM;
	*out = pod_selection__new(opts.pod_filter);
	if (!*out)
		return -ENOMEM;
	opts.pod_filter = NULL; /* the pod selection's now */
	selection__set_predicate(opts.selection, pod_selection__decide, *out);
	return 0;
}

/* The first decisions read the pods as listed: wait for the list (a
 * process of a pod not listed yet is decided again once it is). */
#define POD_LIST_WAIT_MS 10000

static void wait_for_pods(struct pod_watch *pods)
{
	char why[512];

	if (pod_watch__wait_synced(pods, POD_LIST_WAIT_MS, why, sizeof(why)))
		fprintf(stderr, "spanprobe: warning: this node's pods are not listed yet (%s); their "
			"processes are chosen once they are\n", why);
}

static void request_rescan(void *tracer)
{
	tracer__request_rescan(tracer);
}

static int start_metrics(struct report_sources *r, struct metrics_server **out)
{
	int err = metrics_server__start(opts.metrics_addr, report__metrics, r, out);

	if (err)
		return err;
	fprintf(stderr, "spanprobe: metrics on http://%.*s:%d/metrics\n",
		(int)(strrchr(opts.metrics_addr, ':') - opts.metrics_addr), opts.metrics_addr,
		metrics_server__port(*out));
	return 0;
}

int main(int argc, char **argv)
{
	struct report_sources report = {};
	struct metrics_server *metrics = NULL;
	struct pod_watch *pods = NULL;
	struct pod_selection *pod_sel = NULL;
	struct tracer *tracer = NULL;
	struct outputs *outputs = NULL;
	bool ready_made = false;
	int exit_code = 1, err;

	/* messages name the tool, not the path it was run by */
	program_invocation_name = program_invocation_short_name;
	argv[0] = program_invocation_short_name; /* getopt prints argv[0] */
	install_signals();
	if (options__parse(argc, argv, &opts))
		goto cleanup;
	libbpf_set_print(libbpf_print_fn);
	if (make_pod_selection(&pod_sel)) {
		fprintf(stderr, "spanprobe: out of memory\n");
		goto cleanup;
	}
	if (!opts.list) {
		err = node_pods__start(&(struct node_pods_opts){
					       .node_name = opts.node_name, .api_url = opts.kube_api,
					       .token_file = opts.kube_token_file,
					       .ca_file = opts.kube_ca_file, .verbose = opts.verbose,
					       .needed_by = pod_sel ? opts.pod_option : NULL,
					       .on_pod = pod_sel ? pod_selection__pod_event : NULL,
					       .on_synced = pod_sel ? pod_selection__synced : NULL,
					       .ctx = pod_sel,
				       },
				       &pods);
		if (err)
			goto cleanup;
		if (pod_sel) {
			pod_selection__set_watch(pod_sel, pods);
			wait_for_pods(pods);
		}
	}

	err = tracer__new(&(struct tracer_opts){
				  .specs = opts.specs, .nspecs = opts.nspecs,
				  .rules = opts.rules, .nrules = opts.nrules,
				  .pid = opts.pid, .cmd = opts.cmd, .wait = opts.wait,
				  .follow = !opts.no_follow, .selection = opts.selection,
				  .cmd_stdout_to_stderr = command_output_to_stderr(),
				  .verbose = opts.verbose, .dry_run = opts.dry_run, .list = opts.list,
				  .returns = opts.returns,
				  .ring_buffer_bytes = opts.ring_buffer_bytes,
				  .arg_rules = opts.arg_rules, .narg_rules = opts.narg_rules,
				  .summary_only = summary_only(),
				  .no_stats = opts.summary == SUMMARY_OFF,
				  .min_duration_ns = opts.min_duration_ns,
				  .errors_only = opts.errors_only,
				  .sample_mode = opts.sampler.mode,
				  .sample_threshold = opts.sampler.threshold,
				  .pods = pods,
			  }, &tracer);
	if (err)
		goto cleanup;
	if (pod_sel)
		pod_selection__on_change(pod_sel, request_rescan, tracer);
	if (opts.list) {
		probe_list__print(tracer__table(tracer), opts.verbose, stdout);
		python_probe__print_list(tracer__python(tracer), opts.verbose, stdout);
		exit_code = 0;
		goto cleanup;
	}
	err = outputs__open(&opts.out, &outputs);
	if (err)
		goto cleanup;
	err = tracer__start(tracer);
	if (err)
		goto cleanup;
	if (opts.dry_run) {
		exit_code = 0;
		goto cleanup;
	}
	outputs__set_backlog(outputs, tracer__ring_backlog_pct, tracer);
	err = outputs__start(outputs);
	if (err)
		goto cleanup;
	report = (struct report_sources){ .tracer = tracer, .outputs = outputs,
					  .output_name = opts.out.file ?: "standard output" };
	if (opts.metrics_addr && start_metrics(&report, &metrics))
		goto cleanup;
	if (opts.ready_file) {
		if (make_ready_file(opts.ready_file))
			goto cleanup;
		ready_made = true;
	}
	err = tracer__run(tracer, &(struct tracer_sink){ write_span, flush_lines, outputs },
			  &exiting);
	exit_code = err ? 1 : 0;
	if (tracer__exit_code(tracer))
		exit_code = tracer__exit_code(tracer);

cleanup:
	metrics_server__stop(metrics);
	outputs__flush(outputs);
	if (tracer && tracer__ran(tracer)) {
		print_summary(tracer, outputs);
		report__summary(&report, stderr);
		tracer__print_hits(tracer, stderr);
	}
	/* spans were lost to a failed write: say so in the exit status too */
	if (outputs__write_error(outputs) && exit_code == 0)
		exit_code = 1;
	if (ready_made)
		unlink(opts.ready_file);
	outputs__free(outputs);
	if (pod_sel) /* no rescan request may reach a freed tracer */
		pod_selection__on_change(pod_sel, NULL, NULL);
	tracer__free(tracer);
	pod_watch__stop(pods);
	pod_selection__free(pod_sel);
	options__release(&opts);
	return exit_code;
}
