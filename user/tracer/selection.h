/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Which processes are traced when the probes go into chosen processes only
 * (no -p/-c): by executable (--exe GLOB) and by a predicate the Kubernetes
 * side supplies (namespaces, pod labels, containers). Unchosen processes
 * get no breakpoint at all: they pay nothing. */
#ifndef SPANPROBE_SELECTION_H
#define SPANPROBE_SELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct selection;

/* 1: chosen, 0: not, with why (for -v); negative: can't tell (gone). */
typedef int (*selection_fn)(void *ctx, pid_t pid, char *why, size_t why_len);

struct selection *selection__new(void);
/* GLOB matches the executable's path (as the process sees it) when it holds
 * a '/', else its file name. Prints one line and returns -EINVAL when empty. */
int selection__add_exe(struct selection *s, const char *glob);
/* An extra test every chosen process must pass (the pod filter). */
void selection__set_predicate(struct selection *s, selection_fn fn, void *ctx);
bool selection__active(const struct selection *s);
/* Does s choose pid? 1 or 0 with why filled; negative errno when the
 * process can't be read (gone). */
int selection__decide(const struct selection *s, pid_t pid, char *why, size_t why_len);
void selection__free(struct selection *s);

#endif
