/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Which processes are traced, when the tracer traces more than one: the
 * processes selection chooses (no -p/-c: --exe, pods; selection.h is the
 * rule), each with the probes put into it alone, chosen and unchosen as
 * processes start, exec and exit and as pods change; or -p/-c's process and
 * its descendants (--follow), a tree the kernel grows in traced_tgids and
 * reports as control records. One table keyed by (pid, start time)
 * (process_hash.h) holds both; the tracer calls this from its start, its
 * control-record handler and its stop, and this calls the probe sources
 * through their table of operations (probe_source.h). */
#ifndef SPANPROBE_PROCESS_CHOICE_H
#define SPANPROBE_PROCESS_CHOICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "tracer.h"

struct bpf_map;
struct process_choice;
struct selection;
struct source_env;

struct process_choice_setup {
	const struct selection *selection; /* choosing: the rule; NULL: following root */
	pid_t root;                        /* following: -p/-c's process */
	bool verbose;                      /* -v: say each decision */
	struct bpf_map *traced_tgids;      /* the kernel's set of traced processes */
	void *const *source_state;         /* each probe source's state (probe_sources[i]) */
	/* what the probe sources are told, as things stand now */
	const struct source_env *(*env)(void *ctx);
	void *env_ctx;
};

/* 0, or -ENOMEM. */
int process_choice__new(const struct process_choice_setup *s, struct process_choice **out);

/* Choosing: decides every process running now (the start; a pod event);
 * those chosen before are decided again first. */
void process_choice__decide_all(struct process_choice *c);
/* Following -p's process: the descendants it has now join the tree (and
 * the kernel's set), and each source hooks them (hook_process). Call after
 * the fork tracepoint is attached. The count, or a negative errno (one
 * line printed). */
int process_choice__add_descendants(struct process_choice *c);

/* The control records of traced processes. fork: a child joins the tree,
 * or is decided (a chosen process's child: chosen too, if selection says
 * so). exit: it leaves the tree, or its probes and entry go. */
void process_choice__fork(struct process_choice *c, pid_t pid, pid_t ppid);
void process_choice__exit(struct process_choice *c, pid_t pid);
/* Choosing, pid exec'd (after the sources' discover): what the sources
 * found goes into every chosen process (attach_found), pid's probes of its
 * image are made again, and pid is decided again (an --exe glob may no
 * longer match). true when pid was chosen before the exec or is now: its
 * new program is traced. */
bool process_choice__exec(struct process_choice *c, pid_t pid);

/* Choosing: whether pid is chosen now (false once stopped). */
bool process_choice__chosen(const struct process_choice *c, pid_t pid);
/* Processes and pods chosen now and so far (selecting left as it is).
 * Safe from the metrics thread (the totals are read at exit). */
void process_choice__counts(const struct process_choice *c, struct selection_counts *out);
/* Processes traced so far: chosen ever, or the tree's when it is more
 * than its root; else 0. */
size_t process_choice__traced_so_far(const struct process_choice *c);
/* The start's line: how many processes are chosen, or are traced in the
 * tree (when more than the root). */
void process_choice__say_start(const struct process_choice *c, FILE *to);
/* Tracing stopped: the tree's processes still running, named. */
void process_choice__say_still_running(const struct process_choice *c, FILE *to);
/* Detached: every chosen process's probes go, and nothing is chosen from
 * now on (the tree stays, for say_still_running). */
void process_choice__stop(struct process_choice *c);
void process_choice__free(struct process_choice *c);

#endif
