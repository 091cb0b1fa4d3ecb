/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The -c command: started held before exec so the probes are in place when
 * its first instruction runs, then released, reaped, and its status kept. */
#ifndef SPANPROBE_CHILD_H
#define SPANPROBE_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

struct child {
	pid_t pid;        /* -1 once reaped */
	int go_fd;        /* write end: one byte lets the child exec */
	int exec_err_fd;  /* read end: errno from a failed exec (close-on-exec) */
	int exit_status;  /* exit code, or 128 + signal */
};

/* Finds the command as exec would (a path, or along PATH) before anything
 * is loaded: 0 when it can run, else one line and the shell's status for
 * it (127 not found, 126 not executable). */
int child__check_command(const char *cmd);
/* Splits cmd like a shell would (no command substitution) and forks; with
 * stdout_to_stderr the command's standard output is spanprobe's standard
 * error (so span output on standard output is not mixed with it). */
int child__spawn_held(struct child *c, const char *cmd, bool stdout_to_stderr);
/* Lets the child exec; -ENOENT etc. (and one line) when exec failed. */
int child__release(struct child *c);
/* true when the child has ended (then pid is -1 and exit_status set). */
bool child__reap(struct child *c, bool block);
/* SIGTERM, up to 2 s grace, then SIGKILL; reaps it. */
void child__terminate(struct child *c);

#endif
