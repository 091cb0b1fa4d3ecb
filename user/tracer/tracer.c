// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The tracer's lifecycle (see tracer.h). One BPF object holds every probe
 * source's programs around one shadow stack and one span ring buffer; this
 * file opens it, lets each source configure it, loads it, attaches each
 * source, and reads its rings until the run ends. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "child.h"
#include "elf_symbols.h"
#include "exception_hooks.h"
#include "preflight.h"
#include "probe_spec.h"
#include "probe_table.h"
#include "process_info.h"
#include "python_probe.h"
#include "span.h"
#include "span_decode.h"
#include "spanprobe.skel.h"
#include "tracer.h"
#include "tracer_internal.h"

static bool has_absolute_uprobe(const struct probe_spec *specs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (specs[i].kind == PROBE_UPROBE && specs[i].binary[0] == '/')
			return true;
	return false;
}

static double ms_since(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1e3 + (now.tv_nsec - since->tv_nsec) / 1e6;
}

int tracer__new(const struct tracer_opts *o, struct tracer **out)
{
	struct tracer *t = calloc(1, sizeof(*t));
	int err;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->opts = *o;
	pthread_mutex_init(&t->table_lock, NULL);
	t->child = (struct child){ .pid = -1, .go_fd = -1, .exec_err_fd = -1 };
	t->target = -1;
	t->table.returns = o->returns;
	if (o->pid > 0) {
		err = check_process_exists(o->pid);
		if (err)
			goto cleanup;
	}
	err = probe_table__resolve(&t->table, o->specs, o->nspecs, o->pid, o->wait && !o->list);
	if (err)
		goto cleanup;
	if (o->list) {
		*out = t;
		return 0;
	}
	err = python_probe__resolve(o->specs, o->nspecs, &t->python);
	if (err)
		goto cleanup;
	if (t->table.nfuncs == 0 && !t->table.pending && !t->python) {
		fprintf(stderr, "spanprobe: no PROBE given\n");
		err = -EINVAL;
		goto cleanup;
	}
	err = probe_table__apply_rules(&t->table, o->rules, o->nrules);
	if (err)
		goto cleanup;
	*out = t;
	return 0;
cleanup:
	tracer__free(t);
	return err;
}

const struct probe_table *tracer__table(const struct tracer *t)
{
	return &t->table;
}

static int store_rules(struct tracer *t, size_t first)
{
	for (uint32_t i = first; i < t->table.nfuncs; i++) {
		const struct traced_func *f = &t->table.funcs[i];
		int err = bpf_map__update_elem(t->skel->maps.func_rules, &i, sizeof(i), &f->rule,
					       sizeof(f->rule), 0);
		if (err) {
			fprintf(stderr, "spanprobe: can't store the rule of %s: %s\n", f->sym->name,
				strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Opens the object and lets each probe source set its part of rodata. */
static int open_object(struct tracer *t)
{
	struct spanprobe_bpf *skel = spanprobe_bpf__open();

	if (!skel) {
		int err = -errno;

		fprintf(stderr, "spanprobe: can't open the BPF object: %s\n", strerror(errno));
		return err;
	}
	t->skel = skel;
	skel->rodata->target_tgid = t->target > 0 ? (uint32_t)t->target : 0;
	skel->rodata->watch_execs = t->target <= 0 && has_absolute_uprobe(t->opts.specs,
									   t->opts.nspecs);
	t->multi = uprobe_multi_supported();
	if (t->multi) {
		bpf_program__set_expected_attach_type(skel->progs.span_enter, BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.span_exit, BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.span_exit_site, BPF_TRACE_UPROBE_MULTI);
	}
	python_probe__configure(t->python, skel);
	return 0;
}

static int load_object(struct tracer *t)
{
	int err = spanprobe_bpf__load(t->skel);

	if (err) {
		if (err == -EPERM)
			fprintf(stderr, "spanprobe: the kernel refused to load BPF programs: run as root, "
				"or grant CAP_BPF and CAP_PERFMON\n");
		else
			fprintf(stderr, "spanprobe: can't load the BPF programs: %s (run with -v for "
				"the verifier's log)\n", strerror(-err));
		return err;
	}
	err = store_rules(t, 0);
	if (err)
		return err;
	return python_probe__store(t->python, t->skel);
}

static int attach_sources(struct tracer *t)
{
	struct attach_progs progs = {
		.enter = t->skel->progs.span_enter,
		.exit = t->skel->progs.span_exit,
		.exit_site = t->skel->progs.span_exit_site,
		.indirect_map_fd = bpf_map__fd(t->skel->maps.indirect_sites),
	};
	int err;

	err = attach_probes(&t->attached, &t->table, &progs, t->target, t->multi);
	if (!err)
		err = exception_hooks__attach(&t->hooks, &t->table, t->skel->progs.exception_hook,
					      bpf_map__fd(t->skel->maps.hook_infos), t->target,
					      t->opts.verbose || t->opts.dry_run);
	if (err)
		return err;
	if (t->python) {
		err = python_probe__attach(t->python, t->skel, t->target);
		if (err)
			return err;
		if (t->opts.verbose || t->opts.dry_run)
			python_probe__describe(t->python, stderr);
	}
	err = spanprobe_bpf__attach(t->skel); /* the thread-exit and exec tracepoints */
	if (err) {
		fprintf(stderr, "spanprobe: can't attach the thread-exit tracepoint: %s\n",
			strerror(-err));
		return err;
	}
	return 0;
}

int tracer__start(struct tracer *t)
{
	struct timespec t0;
	int err;

	err = preflight_check();
	if (err)
		return err;
	if (t->opts.pid > 0)
		t->target = t->opts.pid;
	/* Start the command held before exec, so its first calls are traced. */
	if (t->opts.cmd) {
		err = child__spawn_held(&t->child, t->opts.cmd);
		if (err)
			return err;
		t->target = t->child.pid;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = open_object(t);
	if (err)
		return err;
	err = load_object(t);
	if (err)
		return err;
	err = attach_sources(t);
	if (err)
		return err;
	if (t->opts.verbose || t->opts.dry_run)
		fprintf(stderr, "spanprobe: attached %zu functions in %zu files (%s links) in %.1f ms\n",
			probe_table__attachable(&t->table), t->table.nbins, t->multi ? "uprobe_multi" : "per-function",
			ms_since(&t0));
	return 0;
}

static int handle_span_record(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	struct span s;
	int n = span_decoder__decode(t->decoder, data, size, &s);

	if (n == -ENOMEM)
		return n;
	if (n <= 0)
		return 0; /* an announcement, or a record naming nothing known */
	t->emit_err = t->sink.span(t->sink.ctx, &s);
	return t->emit_err < 0 ? t->emit_err : 0;
}

/* A process exec'd while watching for container paths: trace the probed
 * files its mount namespace holds that are not traced yet. */
static int handle_control_record(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	size_t first_bin, first_func;
	pid_t pid = span_decoder__exec_pid(data, size);
	int n;

	if (pid <= 0)
		return 0;
	pthread_mutex_lock(&t->table_lock);
	n = probe_table__discover(&t->table, pid, &first_bin, &first_func);
	pthread_mutex_unlock(&t->table_lock);
	if (n <= 0)
		return 0; /* nothing new, or the process is already gone */
	if (store_rules(t, first_func))
		return 0;
	for (size_t i = first_bin; i < t->table.nbins; i++) {
		const struct traced_binary *b = t->table.bins[i];

		if (attach_binary(&t->attached, &t->table, b, -1) == 0 &&
		    exception_hooks__attach_binary(&t->hooks, &t->table, b, -1) == 0)
			fprintf(stderr, "spanprobe: tracing %s (%s, seen by process %d)\n", b->spec_name,
				b->path, pid);
	}
	return 0;
}

static int open_rings(struct tracer *t)
{
	t->procs = process_table__new();
	t->decoder = span_decoder__new(&t->table, monotonic_to_realtime_offset(), t->procs);
	if (!t->procs || !t->decoder)
		return -ENOMEM;
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), handle_span_record, t, NULL);
	if (!t->rb || ring_buffer__add(t->rb, bpf_map__fd(t->skel->maps.control),
				       handle_control_record, t)) {
		int err = -errno;

		fprintf(stderr, "spanprobe: can't open the ring buffer: %s\n", strerror(errno));
		return err;
	}
	return 0;
}

/* Detach so nothing new arrives, then drain what is queued. */
static void detach_and_drain(struct tracer *t)
{
	attachment__destroy(&t->attached);
	exception_hooks__detach(&t->hooks);
	python_probe__detach(t->python);
	if (t->rb)
		ring_buffer__consume(t->rb);
}

int tracer__run(struct tracer *t, const struct tracer_sink *sink, const volatile sig_atomic_t *stop)
{
	int err;

	t->sink = *sink;
	err = open_rings(t);
	if (err)
		goto out;
	if (t->opts.cmd && !*stop) {
		err = child__release(&t->child);
		if (err) {
			t->child.exit_status = 127; /* as a shell says "command not found" */
			goto out;
		}
	} else if (!t->opts.verbose) {
		fprintf(stderr, "spanprobe: tracing %zu functions%s%s; Ctrl-C to stop\n",
			probe_table__attachable(&t->table), t->target > 0 ? " in one process" : "",
			t->table.pending ? " (and watching for the paths not found yet)" : "");
	}
	t->ran = true;
	while (!*stop && t->emit_err >= 0) {
		/* The kernel side wakes us only for batches: also drain whatever
		 * arrived without a wakeup, every 100 ms. */
		err = ring_buffer__poll(t->rb, 100 /* ms */);
		if (err >= 0)
			err = ring_buffer__consume(t->rb);
		if (err < 0 && err != -EINTR && t->emit_err >= 0) {
			fprintf(stderr, "spanprobe: reading the ring buffer failed: %s\n", strerror(-err));
			goto out;
		}
		if (err > 0 && t->sink.drained)
			t->sink.drained(t->sink.ctx);
		if (t->opts.cmd && child__reap(&t->child, false))
			break;
		if (t->opts.pid > 0 && check_process_alive(t->opts.pid) != 0)
			break;
	}
	err = 0;
out:
	/* Stopped by a signal while the command runs: end it, as its tracer. */
	if (t->opts.cmd)
		child__terminate(&t->child);
	detach_and_drain(t);
	return err;
}

bool tracer__ran(const struct tracer *t)
{
	return t->ran;
}

int tracer__exit_code(const struct tracer *t)
{
	return t->opts.cmd ? t->child.exit_status : 0;
}

void tracer__free(struct tracer *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	span_decoder__free(t->decoder);
	process_table__free(t->procs);
	attachment__destroy(&t->attached);
	exception_hooks__detach(&t->hooks);
	python_probe__free(t->python);
	spanprobe_bpf__destroy(t->skel);
	child__terminate(&t->child);
	probe_table__release(&t->table);
	pthread_mutex_destroy(&t->table_lock);
	free(t);
}
