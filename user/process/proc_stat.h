/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Fields of /proc/PID/stat: who a process's parent is, and when it started
 * (with the pid, what tells a process from a later one given its PID). */
#ifndef SPANPROBE_PROC_STAT_H
#define SPANPROBE_PROC_STAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Field 22, clock ticks since boot; 0 when the process is gone. */
uint64_t process_start_time(pid_t pid);
/* Field 4; 0 when the process is gone. */
pid_t process_parent_pid(pid_t pid);
/* Both from one read; 0s when the process is gone. */
void process_parent_and_start(pid_t pid, pid_t *parent, uint64_t *start);

#endif
