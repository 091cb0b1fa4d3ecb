/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The pods of this node by uid: written by the watch thread, read by any
 * thread (a short lock, then a reference to an immutable pod). */
#ifndef SPANPROBE_POD_TABLE_H
#define SPANPROBE_POD_TABLE_H

#include <stddef.h>

#include "k8s_pod.h"

struct pod_table;

struct pod_table *pod_table__new(void);
/* Inserts pod (the table takes the caller's reference) tagged with the
 * list generation that last saw it; returns the version it replaces (the
 * caller's reference now) or NULL. */
struct k8s_pod *pod_table__insert(struct pod_table *t, struct k8s_pod *pod, unsigned generation);
/* Removes and returns the pod with uid (the caller's reference), or NULL. */
struct k8s_pod *pod_table__remove(struct pod_table *t, const char *uid);
/* A new reference to the pod with uid, or NULL. */
struct k8s_pod *pod_table__lookup(struct pod_table *t, const char *uid);
/* Removes every pod not tagged with generation (a list that no longer
 * has them) and hands each to gone(ctx, pod), which owns the reference. */
void pod_table__sweep(struct pod_table *t, unsigned generation,
		      void (*gone)(void *ctx, struct k8s_pod *pod), void *ctx);
size_t pod_table__count(struct pod_table *t);
void pod_table__free(struct pod_table *t);

#endif /* SPANPROBE_POD_TABLE_H */
