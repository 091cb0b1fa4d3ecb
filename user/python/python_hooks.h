/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CPython 3.11+ without USDT: inlining turned off, per traced process, while
 * spanprobe traces (cpython_hook.h does the writes): in a process when it is
 * found (-p, -c, every process mapping the file system-wide) and whenever
 * the BPF side reports an interpreter running inlined (a process started
 * later, a new subinterpreter); undone in all of them before the probes
 * detach. A process is known by its pid and start time, so a pid reused
 * by another program is never written to. */
#ifndef SPANPROBE_PYTHON_HOOKS_H
#define SPANPROBE_PYTHON_HOOKS_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "cpython_hook.h"

struct py_eval_target;

struct py_hooked {
	pid_t pid;
	unsigned long long start_time; /* /proc/PID/stat field 22 */
	const struct py_eval_target *target;
	struct cpython_hook h;
};

struct python_hooks {
	struct py_hooked *procs;
	size_t n;
	unsigned long long restored, writes;
};

/* Turns inlining off in every interpreter of pid that runs t's file.
 * Returns how many interpreters the process has (0: the file is not mapped
 * or the runtime not yet initialised), or a negative errno (-EPERM: no
 * CAP_SYS_PTRACE; -ESRCH: gone). With verbose, says what it did on `log`. */
int python_hooks__hook(struct python_hooks *hs, pid_t pid, const struct py_eval_target *t,
		       FILE *log);
/* pid is no longer traced: its interpreters back as they were (when it
 * is still the same process), and forgotten. */
void python_hooks__restore_pid(struct python_hooks *hs, pid_t pid, FILE *log);
/* pid exec'd (its memory is another program's now): forgotten, nothing
 * written. */
void python_hooks__forget_pid(struct python_hooks *hs, pid_t pid);
/* Puts every hooked interpreter back (of processes still the same). */
void python_hooks__restore_all(struct python_hooks *hs, FILE *log);
void python_hooks__free(struct python_hooks *hs);


#endif
