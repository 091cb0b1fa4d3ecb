/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The tracer's state, shared by tracer.c (lifecycle) and tracer_stats.c
 * (counters, hits, metrics); nothing else includes it. */
#ifndef SPANPROBE_TRACER_INTERNAL_H
#define SPANPROBE_TRACER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "child.h"
#include "probe_source.h"
#include "probe_table.h"
#include "kernel_features.h"
#include "object_load.h"
#include "process_ref.h"
#include "process_choice.h"
#include "tracer.h"

struct tracer {
	struct tracer_opts opts;
	/* The table grows when new containers appear; the metrics thread reads it. */
	pthread_mutex_t table_lock;
	struct probe_table table;
	void *source_state[PROBE_SOURCES_MAX]; /* each source's (probe_sources[i]) */
	bool source_found[PROBE_SOURCES_MAX];  /* it resolved something to trace */
	struct source_env env;                 /* what the sources are told (env_of) */
	struct spanprobe_bpf *skel;
	struct object_load load;    /* programs the kernel refused, the verifier's costs */
	double resolve_ms, load_ms; /* start-up: where its time went (-v) */
	bool multi;                 /* uprobe_multi links */
	struct kernel_features kf;  /* what the kernel offers, probed once */
	struct child child;
	pid_t target;               /* the one traced process (the tree's root), or -1 */
	struct process_ref target_ref; /* -p: that process itself (pidfd), not its PID */
	bool following;             /* target and its descendants, probes system-wide */
	bool selecting;             /* probes only in the processes selection chooses */
	struct process_choice *choice; /* selecting or following: the processes traced */
	volatile int rescan;        /* set from other threads: decide every process again */
	struct ring_buffer *rb;
	struct span_decoder *decoder;
	struct process_table *procs;
	struct tracer_sink sink;
	int emit_err;
	bool draining;              /* detached: read what is queued whatever the sink says */
	bool ran;                   /* the ring buffers were read: a summary is due */
	uint32_t stats_uprobe_slots, stats_dyn_slots; /* call_stats map: see call_stats.bpf.h */
};

/* The state of source ops (one of probe_sources), or NULL. */
static inline void *tracer__source_state(const struct tracer *t, const struct probe_source_ops *ops)
{
	for (size_t i = 0; i < nprobe_sources; i++)
		if (probe_sources[i] == ops)
			return t->source_state[i];
	return NULL;
}

#endif
