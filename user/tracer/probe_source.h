/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A probe source as the tracer sees it: one table of operations, the way
 * bpftrace's probe types come from one list. tracer.c runs the lifecycle and
 * calls each registered source (probe_sources.c) at its steps; a source
 * keeps its own state (void *state, made by resolve) and never sees the
 * tracer's. Every operation may be NULL (nothing to do at that step) and is
 * called with the state resolve made, NULL included.
 *
 * Order: the list's, except discover and detach, which run last source
 * first: a later source (Python) undoes what it changed in the traced
 * processes while the earlier sources' probes are still in. */
#ifndef SPANPROBE_PROBE_SOURCE_H
#define SPANPROBE_PROBE_SOURCE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct attachment;
struct control_event;
struct object_load;
struct process_choice;
struct probe_table;
struct record_header;
struct span_decoder;
struct spanprobe_bpf;
struct tracer_opts;

/* What every source is told: the run's settings and where it stands. */
struct source_env {
	const struct tracer_opts *opts;
	/* the function table: function ids below DYN_FUNC_ID_BASE, read by the
	 * decoder and the statistics; grows under table_lock while running */
	struct probe_table *table;
	pthread_mutex_t *table_lock;
	struct spanprobe_bpf *skel;     /* NULL before the object is opened */
	const struct object_load *load; /* the programs the kernel refused */
	struct span_decoder *decoder;   /* NULL before the rings are read */
	bool multi;                     /* uprobe_multi links */
	pid_t target;                   /* the one traced process (a tree's root), or -1 */
	pid_t attach_pid;               /* where probes go: target, or -1 (every process) */
	bool following;                 /* target and its descendants */
	bool selecting;                 /* probes only in the processes chosen one by one */
	/* selecting: who is chosen (process_choice__chosen; none once stopped) */
	const struct process_choice *choice;
};

/* Slots a source needs in the call_stats map (bpf/call_stats.bpf.h). */
struct stats_slots {
	uint32_t by_id;   /* functions of the table, by id */
	uint32_t dynamic; /* functions found at run time */
};

struct probe_source_ops {
	/* Its probes in a chosen process belong to the program image: taken
	 * out and made again when the process execs. */
	bool probes_of_image;
	/* Added to the start line ("tracing N functions...") when resolve
	 * found something, or NULL. */
	const char *start_note;

	/* Before the object is opened: finds what to probe. 1: something to
	 * trace (or to watch for), 0: nothing, or a negative errno (one line
	 * printed). Also with -l. */
	int (*resolve)(const struct source_env *env, void **state);
	/* Once some source has something: the --error and --arg rules. */
	int (*apply_rules)(void *state, const struct source_env *env);
	/* -l: what was resolved. */
	void (*print_list)(const void *state, const struct source_env *env, FILE *out);
	/* The object opened, before load (again at each retry after a refusal):
	 * its rodata, which of its programs load and their attach type,
	 * whether execs are reported (rodata watch_execs); adds the statistics
	 * slots it needs. */
	void (*configure)(void *state, const struct source_env *env, struct stats_slots *slots);
	/* Loaded: its maps. */
	int (*store)(void *state, const struct source_env *env);
	/* Its probes: into env->attach_pid; when selecting, only what goes
	 * into every process (the kernel filters by the chosen set), the rest
	 * per process with attach_process. */
	int (*attach)(void *state, const struct source_env *env);
	/* The start's attach is over (with selection: the first choice too):
	 * what the user should know. */
	void (*say_attached)(const void *state, const struct source_env *env);
	/* The start line is out: its own lines after it. */
	void (*say_tracing)(const void *state, FILE *to);
	/* Selection: its probes into pid alone (links added to into). >= 0,
	 * or a negative errno (a line printed, except -ESRCH: pid gone). */
	int (*attach_process)(void *state, const struct source_env *env, pid_t pid,
			      struct attachment *into);
	/* Selection: what discover found last into a process chosen before. */
	void (*attach_found)(void *state, const struct source_env *env, pid_t pid,
			     struct attachment *into);
	/* Selection: pid no longer chosen, before its links go; exec: its
	 * memory is another program's now. */
	void (*release_process)(void *state, pid_t pid, bool exec);
	/* pid is traced from now on (a descendant of -p's process). */
	void (*hook_process)(void *state, pid_t pid);
	/* pid exec'd (start: its start time): its files not probed yet. Not
	 * selecting, they are attached here; selecting, with attach_found. A
	 * negative errno: the exec is not handled further. */
	int (*discover)(void *state, const struct source_env *env, pid_t pid, uint64_t start);
	/* A control record of a kind the tracer does not handle. */
	void (*control)(void *state, const struct source_env *env, const struct control_event *ev);
	/* An announcement on the span ring (the decoder took it in). */
	void (*announced)(void *state, const struct source_env *env, const struct record_header *h);
	/* No new call seen from here on (queued records can still be read). */
	void (*detach)(void *state);
	void (*free)(void *state);
};

/* The registered sources (probe_sources.c). */
#define PROBE_SOURCES_MAX 4
extern const struct probe_source_ops *const probe_sources[];
extern const size_t nprobe_sources;

#endif
