// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Inlining off and on again per traced process; see python_hooks.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "python_eval.h"
#include "proc_stat.h"
#include "python_hooks.h"

static struct py_hooked *find(struct python_hooks *hs, pid_t pid, const struct py_eval_target *t,
			      unsigned long long start)
{
	for (size_t i = 0; i < hs->n; i++)
		if (hs->procs[i].pid == pid && hs->procs[i].target == t &&
		    hs->procs[i].start_time == start)
			return &hs->procs[i];
	return NULL;
}

int python_hooks__hook(struct python_hooks *hs, pid_t pid, const struct py_eval_target *t,
		       FILE *log)
{
	unsigned long long start = process_start_time(pid);
	struct py_hooked *p, fresh = { .pid = pid, .start_time = start, .target = t };
	unsigned before;
	int n, err;

	if (!start)
		return -ESRCH;
	p = find(hs, pid, t, start);
	if (!p) {
		err = cpython_hook__find(&fresh.h, pid, &t->bin, &t->file);
		if (err)
			return err == -ENOENT ? 0 : err;
		p = &fresh;
	}
	before = p->h.nset;
	n = cpython_hook__install(&p->h);
	if (n < 0)
		return n;
	if (p == &fresh) {
		struct py_hooked *grown;

		if (!fresh.h.nset)
			return n; /* nothing of ours to undo: not kept */
		grown = realloc(hs->procs, (hs->n + 1) * sizeof(*grown));
		if (!grown) {
			cpython_hook__restore(&fresh.h);
			return -ENOMEM;
		}
		hs->procs = grown;
		hs->procs[hs->n++] = fresh;
		p = &hs->procs[hs->n - 1];
	}
	hs->writes += p->h.nset - before;
	if (log && p->h.nset != before)
		fprintf(log, "spanprobe: python: process %d (CPython %u.%u, %s): inlining off in %u "
			"of %d interpreters%s%s\n", (int)pid, t->bin.major, t->bin.minor, t->bin.name,
			p->h.nset, n, p->h.adopted ? " (found already off: left by a spanprobe that "
			"was killed; restored at exit)" : "",
			p->h.foreign ? " (some run another evaluator: left alone)" : "");
	return n;
}

static void restore_one(struct python_hooks *hs, struct py_hooked *p, FILE *log)
{
	int n;

	/* gone, or the pid now names another process: nothing to undo */
	if (process_start_time(p->pid) != p->start_time) {
		p->h.nset = 0;
		return;
	}
	n = cpython_hook__restore(&p->h);
	if (n > 0)
		hs->restored += n;
	if (log)
		fprintf(log, "spanprobe: python: process %d: inlining %s\n", (int)p->pid,
			n >= 0 ? "restored" : "not restored (process gone?)");
}

/* Drops the entries of pid, restoring them first when restore is set. */
static void drop_pid(struct python_hooks *hs, pid_t pid, bool restore, FILE *log)
{
	size_t kept = 0;

	for (size_t i = 0; i < hs->n; i++) {
		if (hs->procs[i].pid != pid) {
			hs->procs[kept++] = hs->procs[i];
			continue;
		}
		if (restore)
			restore_one(hs, &hs->procs[i], log);
	}
	hs->n = kept;
}

void python_hooks__restore_pid(struct python_hooks *hs, pid_t pid, FILE *log)
{
	drop_pid(hs, pid, true, log);
}

void python_hooks__forget_pid(struct python_hooks *hs, pid_t pid)
{
	drop_pid(hs, pid, false, NULL);
}

void python_hooks__restore_all(struct python_hooks *hs, FILE *log)
{
	for (size_t i = 0; i < hs->n; i++)
		restore_one(hs, &hs->procs[i], log);
	hs->n = 0;
}

void python_hooks__free(struct python_hooks *hs)
{
	python_hooks__restore_all(hs, NULL);
	free(hs->procs);
	hs->procs = NULL;
}
