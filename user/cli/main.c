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
#include "options.h"
#include "outputs.h"
#include "pod_choice.h"
#include "report.h"
#include "child.h"
#include "tracer.h"
#include "tracer_config.h"

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
	struct pod_choice pods = {};
	struct tracer_opts topts;
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
	/* a missing command says so at once, not after the probes are in */
	if (opts.cmd && (exit_code = child__check_command(opts.cmd)) != 0)
		goto cleanup;
	exit_code = 1;
	if (pod_choice__start(&opts, &pods))
		goto cleanup;
	tracer_config__from_options(&opts, pods.pods, &topts);
	if (tracer__new(&topts, &tracer))
		goto cleanup;
	pod_choice__follow(&pods, tracer);
	if (opts.list) {
		tracer__print_list(tracer, stdout);
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
#ifndef MUTANT_EXIT_STATUS /* make test-mutants: the command's exit status lost */
	if (tracer__exit_code(tracer))
		exit_code = tracer__exit_code(tracer);
#endif

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
	pod_choice__follow(&pods, NULL); /* no rescan request may reach a freed tracer */
	tracer__free(tracer);
	pod_choice__stop(&pods);
	options__release(&opts);
	return exit_code;
}
