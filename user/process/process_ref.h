/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One process, not one PID: a PID is reused once its process is gone, so
 * "process 1234" found at one moment and acted on at the next may be
 * another program, in another container. A pidfd refers to the process
 * itself (poll says when it has exited); its start time (field 22 of
 * /proc/PID/stat, clock ticks since boot: proc_stat.h) tells a reused PID
 * apart where a pidfd can't be had. While the pidfd says the process
 * lives, /proc/PID is that process. */
#ifndef SPANPROBE_PROCESS_REF_H
#define SPANPROBE_PROCESS_REF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct process_ref {
	pid_t pid;
	int pidfd;           /* -1 where the kernel has no pidfd_open */
	uint64_t start_time; /* clock ticks since boot */
};

/* Takes hold of process pid; want_start != 0: only if it started then (a
 * record of the process seen earlier). 0, or -ESRCH (gone, or another
 * process has the PID now). */
int process_ref__open(pid_t pid, uint64_t want_start, struct process_ref *r);
/* 0 while the process lives (a zombie has exited), else -ESRCH. */
int process_ref__alive(const struct process_ref *r);
void process_ref__close(struct process_ref *r);

/* A start time in nanoseconds since boot (the kernel's start_boottime, as
 * BPF reads it) in the clock ticks /proc/PID/stat shows. */
uint64_t process_start_ticks_from_ns(uint64_t ns);

#endif /* SPANPROBE_PROCESS_REF_H */
