/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The processes selection chose, each with the probes put into it alone and
 * its start time, so a reused PID is never taken for it. */
#ifndef SPANPROBE_CHOSEN_PROCS_H
#define SPANPROBE_CHOSEN_PROCS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach.h"
#include "probe_source.h"
#include "proc_stat.h"

struct chosen_proc {
	pid_t pid;
	uint64_t start_time;        /* /proc/PID/stat field 22, clock ticks since boot */
	char pod_uid[37];           /* the pod its cgroup names, or "" */
	/* its probes, by source (probe_sources[i]); some kept across its
	 * execs, some of its image (probes_of_image) */
	struct attachment attached[PROBE_SOURCES_MAX];
};

struct chosen_procs;

struct chosen_procs *chosen_procs__new(void);
/* The entry for pid, or NULL. */
struct chosen_proc *chosen_procs__find(struct chosen_procs *c, pid_t pid);
/* A new entry (attached empty), or NULL without memory. */
struct chosen_proc *chosen_procs__add(struct chosen_procs *c, pid_t pid, uint64_t start_time);
/* Detaches its probes and forgets it. */
void chosen_procs__remove(struct chosen_procs *c, pid_t pid);
size_t chosen_procs__count(const struct chosen_procs *c);
/* Distinct pods (pod_uid) of the processes chosen now. */
size_t chosen_procs__pods(const struct chosen_procs *c);
struct chosen_proc *chosen_procs__at(struct chosen_procs *c, size_t i);
void chosen_procs__free(struct chosen_procs *c);

#endif
