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
#include <sys/epoll.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "child.h"
#include "env_switches.h"
#include "preflight.h"
#include "probe_table.h"
#include "node_pods.h"
#include "open_calls.h"
#include "process_info.h"
#include "process_ref.h"
#include "span.h"
#include "span_decode.h"
#include "spanprobe.skel.h"
#include "tracer.h"
#include "tracer_internal.h"
#include "probe_list.h"
#include "probe_source.h"
#include "x86_uprobe_insn.h"
#include "process_choice.h"
#include "selection.h"

static double ms_since(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1e3 + (now.tv_nsec - since->tv_nsec) / 1e6;
}

/* What the kernel offers, asked once: which links to make, and what each
 * probed instruction costs (a distribution kernel may have backported what
 * its version number lacks). Unprivileged (-l as a user), the probes can't
 * run: the costs then follow the kernel's version. */
static void probe_kernel(struct tracer *t)
{
	struct uprobe_rules rules;

	if (kernel_features__probe(&t->kf) != 0 || !t->kf.has[KF_RINGBUF])
		return;
	uprobe_rules__for_release(t->kf.release, &rules);
	rules.nop5_optimized = t->kf.has[KF_NOP5_OPTIMIZED];
	rules.push_emulated = t->kf.has[KF_PUSH_EMULATED];
	uprobe_rules__set_running(&rules);
}

/* The process the probes go into: one (-p, -c without following), or all
 * (-1): following a tree needs them in every process, filtered in the
 * kernel, so a child runs traced from its first instruction. */
static pid_t attach_pid(const struct tracer *t)
{
	return t->following ? -1 : t->target;
}

/* What the probe sources are told, as things stand now. */
static const struct source_env *env_of(struct tracer *t)
{
	t->env = (struct source_env){
		.opts = &t->opts,
		.table = &t->table,
		.table_lock = &t->table_lock,
		.skel = t->skel,
		.load = &t->load,
		.decoder = t->decoder,
		.multi = t->multi,
		.target = t->target,
		.attach_pid = attach_pid(t),
		.following = t->following,
		.selecting = t->selecting,
		.choice = t->choice,
	};
	return &t->env;
}

/* One step of every source that has it (op: an int-returning member of
 * struct probe_source_ops), in the list's order; the first error stops it. */
#define sources_step(t, op)                                                              \
	({                                                                               \
		int err_ = 0;                                                            \
		for (size_t i_ = 0; !err_ && i_ < nprobe_sources; i_++)                  \
			if (probe_sources[i_]->op)                                       \
				err_ = probe_sources[i_]->op((t)->source_state[i_], env_of(t)); \
		err_;                                                                    \
	})

int tracer__new(const struct tracer_opts *o, struct tracer **out)
{
	struct tracer *t = calloc(1, sizeof(*t));
	bool found = false;
	struct timespec t0;
	int err;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->opts = *o;
	pthread_mutex_init(&t->table_lock, NULL);
	t->child = (struct child){ .pid = -1, .go_fd = -1, .exec_err_fd = -1 };
	t->target = -1;
	t->target_ref.pidfd = -1;
	t->table.returns = o->returns;
	probe_kernel(t);
	if (o->pid > 0) {
		err = check_process_exists(o->pid);
		/* from now on that process, not its PID (which may be reused) */
		if (!err && process_ref__open(o->pid, 0, &t->target_ref) != 0) {
			fprintf(stderr, "spanprobe: process %d exited\n", o->pid);
			err = -ESRCH;
		}
		if (err)
			goto cleanup;
		t->table.pid_start = t->target_ref.start_time;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < nprobe_sources; i++) {
		err = probe_sources[i]->resolve(env_of(t), &t->source_state[i]);
		if (err < 0)
			goto cleanup;
		t->source_found[i] = err > 0;
		found |= err > 0;
	}
	t->resolve_ms = ms_since(&t0);
	if (o->list) {
		*out = t;
		return 0;
	}
	if (!found) {
		fprintf(stderr, "spanprobe: no PROBE given\n");
		err = -EINVAL;
		goto cleanup;
	}
	err = sources_step(t, apply_rules);
	if (err)
		goto cleanup;
	*out = t;
	return 0;
cleanup:
	tracer__free(t);
	return err;
}

void tracer__print_list(struct tracer *t, FILE *out)
{
	for (size_t i = 0; i < nprobe_sources; i++)
		if (probe_sources[i]->print_list)
			probe_sources[i]->print_list(t->source_state[i], env_of(t), out);
}

/* The settings of the shadow stack every source shares, and the
 * statistics map sized for the slots the sources asked for. */
static int configure_filters(struct tracer *t, const struct stats_slots *slots)
{
	struct spanprobe_bpf *skel = t->skel;
	const struct tracer_opts *o = &t->opts;
	int err;

	skel->rodata->send_spans = !o->summary_only;
	skel->rodata->min_duration_ns = o->min_duration_ns;
	skel->rodata->errors_only = o->errors_only;
	skel->rodata->sample_mode = o->sample_mode;
	skel->rodata->sample_threshold = o->sample_threshold;
	if (o->no_stats)
		return 0;
	t->stats_uprobe_slots = slots->by_id;
	t->stats_dyn_slots = slots->dynamic;
	skel->rodata->stats_uprobe_slots = t->stats_uprobe_slots;
	skel->rodata->stats_dyn_slots = t->stats_dyn_slots;
	if (!t->stats_uprobe_slots && !t->stats_dyn_slots)
		return 0;
	err = bpf_map__set_max_entries(skel->maps.call_stats,
				       t->stats_uprobe_slots + t->stats_dyn_slots);
	if (err)
		fprintf(stderr, "spanprobe: can't size the statistics map: %s\n", strerror(-err));
	return err;
}

/* Opens the object and lets each probe source set its part of rodata. */
static int open_object(struct tracer *t)
{
	struct spanprobe_bpf *skel = spanprobe_bpf__open();
	struct stats_slots slots = { 0 };

	if (!skel) {
		int err = -errno;

		fprintf(stderr, "spanprobe: can't open the BPF object: %s\n", strerror(errno));
		return err;
	}
	t->skel = skel;
	skel->rodata->target_tgid = t->target > 0 ? (uint32_t)t->target : 0;
	skel->rodata->follow_tgids = t->following || t->selecting;
	/* a source adds the execs it watches for (container paths) */
	skel->rodata->watch_execs = t->selecting;
	t->multi = t->kf.has[KF_UPROBE_MULTI];
	/* run once, when tracing stops (open_calls.c) */
	bpf_program__set_autoattach(skel->progs.open_calls_at_stop, false);
	bpf_program__set_autoload(skel->progs.process_fork, skel->rodata->follow_tgids);
	for (size_t i = 0; i < nprobe_sources; i++)
		if (probe_sources[i]->configure)
			probe_sources[i]->configure(t->source_state[i], env_of(t), &slots);
	if (t->opts.ring_buffer_bytes &&
	    bpf_map__set_max_entries(skel->maps.events, (uint32_t)t->opts.ring_buffer_bytes))
		return -EINVAL; /* options.c allowed only powers of two up to 1 GiB */
	return configure_filters(t, &slots);
}

static int load_skeleton(void *skel)
{
	return spanprobe_bpf__load(skel);
}

/* Opens and loads the object; a program the kernel refuses that serves an
 * optional feature is left out and the load tried again (object_load.c). */
static int load_object(struct tracer *t)
{
	struct timespec t0;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	t->load.verbose = t->opts.verbose;
	t->load.test_refuse = env_switch__test_refuse();
	for (;;) {
		err = open_object(t);
		if (!err)
			err = object_load__prepare(&t->load, t->skel->obj);
		if (err)
			return err;
		err = object_load__try(&t->load, load_skeleton, t->skel);
		if (!err || !object_load__refusal(&t->load, err))
			break;
		spanprobe_bpf__destroy(t->skel);
	object_load__release(&t->load);
		t->skel = NULL;
	}
	if (err) {
		if (t->load.failed[0])
			; /* object_load__refusal named the program and the verifier's line */
		else if (err == -ENOMEM && t->opts.ring_buffer_bytes)
			fprintf(stderr, "spanprobe: the kernel can't allocate a %llu MiB ring buffer: "
				"give a smaller --ring-buffer\n",
				(unsigned long long)(t->opts.ring_buffer_bytes >> 20));
		else
			fprintf(stderr, "spanprobe: can't load the BPF object: %s (run with -v for "
				"libbpf's log)\n", strerror(-err));
		return err;
	}
	t->load_ms = ms_since(&t0);
	if (t->opts.verbose)
		object_load__print_costs(&t->load, t->skel->obj, stderr);
	object_load__release(&t->load);
	return sources_step(t, store);
}

void tracer__request_rescan(struct tracer *t)
{
	__atomic_store_n(&t->rescan, 1, __ATOMIC_RELEASE);
}

static int attach_sources(struct tracer *t)
{
	int err;

	if (t->selecting) {
		err = spanprobe_bpf__attach(t->skel); /* fork, exit, exec tracepoints first */
		if (err) {
			fprintf(stderr, "spanprobe: can't attach the process tracepoints: %s\n",
				strerror(-err));
			return err;
		}
		err = sources_step(t, attach);
		if (err)
			return err;
		process_choice__decide_all(t->choice);
		return 0;
	}
	err = sources_step(t, attach);
	if (err)
		return err;
	err = spanprobe_bpf__attach(t->skel); /* the thread-exit and exec tracepoints */
	if (err) {
		fprintf(stderr, "spanprobe: can't attach the thread-exit tracepoint: %s\n",
			strerror(-err));
		return err;
	}
	return 0;
}

static const struct source_env *env_for_choice(void *tracer)
{
	return env_of(tracer);
}

/* Selection or a followed tree: the processes traced one by one. */
static int new_choice(struct tracer *t)
{
	struct process_choice_setup setup = {
		.selection = t->selecting ? t->opts.selection : NULL,
		.root = t->target,
		.verbose = t->opts.verbose,
		.traced_tgids = t->skel->maps.traced_tgids,
		.source_state = t->source_state,
		.env = env_for_choice,
		.env_ctx = t,
	};

	if (!t->selecting && !t->following)
		return 0;
	return process_choice__new(&setup, &t->choice);
}

int tracer__start(struct tracer *t)
{
	struct timespec t0;
	int err;

	err = preflight_check();
	if (err)
		return err;
	err = kernel_features__check_needed(&t->kf);
	if (err)
		return err;
	if (t->opts.verbose)
		kernel_features__describe(&t->kf, stderr);
	if (t->opts.pid > 0)
		t->target = t->opts.pid;
	/* Start the command held before exec, so its first calls are traced. */
	if (t->opts.cmd) {
		err = child__spawn_held(&t->child, t->opts.cmd, t->opts.cmd_stdout_to_stderr);
		if (err)
			return err;
		t->target = t->child.pid;
	}
	if (t->target <= 0 && selection__active(t->opts.selection))
		t->selecting = true;
	if (t->target > 0 && t->opts.follow)
		t->following = true;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = load_object(t);
	if (!err)
		err = new_choice(t);
	if (err)
		return err;
	err = attach_sources(t);
	if (err)
		return err;
	/* still alive after the attach: the PID filter is that process's */
	if (t->opts.pid > 0 && process_ref__alive(&t->target_ref) != 0) {
		fprintf(stderr, "spanprobe: process %d exited before its probes were attached\n",
			t->opts.pid);
		return -ESRCH;
	}
	/* After the fork tracepoint is attached: no descendant falls between. */
	if (t->following && t->opts.pid > 0) {
		err = process_choice__add_descendants(t->choice);
		if (err < 0)
			return err;
	}
	for (size_t i = 0; i < nprobe_sources; i++)
		if (probe_sources[i]->say_attached)
			probe_sources[i]->say_attached(t->source_state[i], env_of(t));
	if (t->opts.verbose || t->opts.dry_run)
		fprintf(stderr, "spanprobe: attached %zu functions in %zu files (%s links); start-up: "
			"resolving probes %.1f ms, loading the BPF object %.1f ms, attaching %.1f ms%s\n",
			probe_table__attachable(&t->table), t->table.nbins,
			t->multi ? "uprobe_multi" : "per-function", t->resolve_ms, t->load_ms,
			ms_since(&t0) - t->load_ms, t->selecting ? " (with the scan of processes)" : "");
	return 0;
}

static int handle_span_record(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	const struct record_header *h = data;
	struct span s;
	int n = span_decoder__decode(t->decoder, data, size, &s), err;

	if (n == -ENOMEM)
		return n;
	for (size_t i = 0; n == 0 && i < nprobe_sources; i++)
		if (probe_sources[i]->announced)
			probe_sources[i]->announced(t->source_state[i], env_of(t), h);
	if (n <= 0)
		return 0; /* an announcement, or a record naming nothing known */
	err = t->sink.span(t->sink.ctx, &s);
	if (err < 0 && !t->draining) {
		t->emit_err = err;
		return err;
	}
	return 0;
}

/* The control ring: forks and exits of the traced tree, execs (a source's
 * files not traced yet may be in the new program's mount namespace), and
 * the kinds the sources handle. */
static int handle_control_record(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	struct control_event ev;
	uint64_t start;
	pid_t pid;

	if (span_decoder__control(data, size, &ev))
		return 0;
	if (ev.kind == REC_FORK) {
		process_choice__fork(t->choice, ev.pid, ev.ppid);
		return 0;
	}
	if (ev.kind == REC_EXIT) {
		process_choice__exit(t->choice, ev.pid);
		return 0;
	}
	if (ev.kind != REC_EXEC) {
		for (size_t i = 0; i < nprobe_sources; i++)
			if (probe_sources[i]->control)
				probe_sources[i]->control(t->source_state[i], env_of(t), &ev);
		return 0;
	}
	pid = ev.pid;
	/* another program now: its spans name it (resource, service) */
	process_table__forget(t->procs, pid);
	start = process_start_ticks_from_ns(ev.start_boottime);
	for (size_t i = nprobe_sources; i-- > 0;)
		if (probe_sources[i]->discover &&
		    probe_sources[i]->discover(t->source_state[i], env_of(t), pid, start) < 0)
			return 0;
	/* Who a traced process is now, read while it runs: a short-lived
	 * process can be gone from /proc by the time its spans are read on a
	 * busy machine; then the report's name stands. */
	if (process_choice__exec(t->choice, pid))
		process_table__note_exec(t->procs, pid, ev.comm);
	return 0;
}

/* Until a ring wakes us or timeout_ms pass: 0, or -errno (-EINTR: a signal). */
static int wait_for_records(struct tracer *t, int timeout_ms)
{
	struct epoll_event ev;

	if (epoll_wait(ring_buffer__epoll_fd(t->rb), &ev, 1, timeout_ms) < 0)
		return -errno;
	return 0;
}

/* The span ring's index in t->rb (open_rings adds it after the control ring). */
#define EVENTS_RING 1

static int open_rings(struct tracer *t)
{
	t->procs = process_table__new();
	if (t->procs && t->opts.pods)
		process_table__set_pod_lookup(t->procs, node_pods__lookup, t->opts.pods);
	t->decoder = span_decoder__new(&t->table, monotonic_to_realtime_offset(), t->procs);
	if (!t->procs || !t->decoder)
		return -ENOMEM;
	/* control first: each round reads an exec report before the spans
	 * that follow it (the new program's name is read at the report) */
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.control), handle_control_record, t, NULL);
	if (!t->rb || ring_buffer__add(t->rb, bpf_map__fd(t->skel->maps.events),
				       handle_span_record, t)) {
		int err = -errno;

		fprintf(stderr, "spanprobe: can't open the ring buffer: %s\n", strerror(errno));
		return err;
	}
	return 0;
}

void tracer__selection_counts(const struct tracer *t, struct selection_counts *out)
{
	*out = (struct selection_counts){ .selecting = t->selecting };
	if (t->selecting)
		process_choice__counts(t->choice, out);
}

size_t tracer__processes_seen(const struct tracer *t)
{
	return process_choice__traced_so_far(t->choice);
}

/* Detach so nothing new arrives (the sources last first: see
 * probe_source.h), end the calls still open, then drain what is queued. */
static void detach_and_drain(struct tracer *t)
{
	int err;

	for (size_t i = nprobe_sources; i-- > 0;)
		if (probe_sources[i]->detach)
			probe_sources[i]->detach(t->source_state[i]);
	err = t->skel && t->ran ? open_calls__end(t->skel) : 0;
	if (err)
		fprintf(stderr, "spanprobe: the calls still open are not sent (their children's "
			"parent is missing): the kernel refused the iterator: %s\n", strerror(-err));
	process_choice__stop(t->choice);
	t->draining = true;
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
		if (t->opts.cmd_stdout_to_stderr)
			fprintf(stderr, "spanprobe: the command's standard output goes to standard "
				"error, so standard output carries spans only (--output-file keeps "
				"them apart too)\n");
	} else {
		char classes[160], notes[64] = "";

		probe_list__cost_classes(&t->table, classes, sizeof(classes));
		for (size_t i = 0; i < nprobe_sources; i++)
			if (t->source_found[i] && probe_sources[i]->start_note)
				snprintf(notes + strlen(notes), sizeof(notes) - strlen(notes), "%s",
					 probe_sources[i]->start_note);
		fprintf(stderr, "spanprobe: tracing %zu functions%s%s%s%s; Ctrl-C to stop\n",
			probe_table__attachable(&t->table),
			t->selecting ? " in the processes chosen"
			: t->following ? " in a process and its descendants"
			: t->target > 0 ? " in one process" : "",
			t->table.pending ? " (and watching for the paths not found yet)" : "",
			classes, notes);
		for (size_t i = 0; i < nprobe_sources; i++)
			if (probe_sources[i]->say_tracing)
				probe_sources[i]->say_tracing(t->source_state[i], stderr);
		process_choice__say_start(t->choice, stderr);
	}
	/* -p's process, named while it runs (see the exec report's) */
	if (t->opts.pid > 0)
		process_table__get(t->procs, t->opts.pid);
	t->ran = true;
	while (!*stop && t->emit_err >= 0) {
		/* The kernel side wakes us only for batches: also drain whatever
		 * arrived without a wakeup, every 100 ms. Both rings are read in
		 * their order, control first (open_rings), whichever woke us. */
		err = wait_for_records(t, 100 /* ms */);
		if (err >= 0)
			err = ring_buffer__consume(t->rb);
		if (err < 0 && err != -EINTR && t->emit_err >= 0) {
			fprintf(stderr, "spanprobe: reading the ring buffer failed: %s\n", strerror(-err));
			goto out;
		}
		if (err > 0 && t->sink.drained && t->sink.drained(t->sink.ctx) < 0)
			break;
		if (t->opts.cmd && child__reap(&t->child, false))
			break;
		if (t->selecting && __atomic_exchange_n(&t->rescan, 0, __ATOMIC_ACQ_REL))
			process_choice__decide_all(t->choice);
		if (t->opts.pid > 0 && process_ref__alive(&t->target_ref) != 0)
			break;
	}
	err = 0;
out:
	/* Stopped by a signal while the command runs: end it, as its tracer. */
	if (t->opts.cmd)
		child__terminate(&t->child);
	detach_and_drain(t);
	process_choice__say_still_running(t->choice, stderr);
	return err;
}

bool tracer__ran(const struct tracer *t)
{
	return t->ran;
}

unsigned tracer__ring_backlog_pct(void *tracer)
{
	struct tracer *t = tracer;
	struct ring *r = t && t->rb ? ring_buffer__ring(t->rb, EVENTS_RING) : NULL;
	size_t size = r ? ring__size(r) : 0;

	return size ? (unsigned)(ring__avail_data_size(r) * 100 / size) : 0;
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
	for (size_t i = 0; i < nprobe_sources; i++)
		if (probe_sources[i]->free)
			probe_sources[i]->free(t->source_state[i]);
	spanprobe_bpf__destroy(t->skel);
	object_load__release(&t->load);
	child__terminate(&t->child);
	probe_table__release(&t->table);
	process_ref__close(&t->target_ref);
	process_choice__free(t->choice);
	pthread_mutex_destroy(&t->table_lock);
	free(t);
}
