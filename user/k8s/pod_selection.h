/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Choosing processes by their pod (--namespace, --pod-selector,
 * --container): the selection predicate (selection.h) over this node's pod
 * watch and a pod filter, and the watch's callbacks that tell which pod
 * events can change the choice, so the tracer decides again. A process's
 * pod is the one its cgroup names (pod_cgroup.h); what that pod is comes
 * from the API server only. */
#ifndef SPANPROBE_POD_SELECTION_H
#define SPANPROBE_POD_SELECTION_H

#include <stddef.h>
#include <sys/types.h>

#include "pod_filter.h"
#include "pod_watch.h"

struct pod_selection;

/* Takes filter (freed with the selection). NULL without memory. */
struct pod_selection *pod_selection__new(struct pod_filter *filter);
/* The watch the pods are looked up in (borrowed; NULL: none yet). */
void pod_selection__set_watch(struct pod_selection *s, struct pod_watch *w);
/* fn(ctx) runs on the watch thread whenever a pod event may change which
 * processes are chosen (a matching pod added, removed, relabelled, its
 * containers reported; every complete list). Safe to set while the watch
 * runs; events before it is set are not replayed (the first decision reads
 * the watch as it is then). */
void pod_selection__on_change(struct pod_selection *s, void (*fn)(void *ctx), void *ctx);
/* The watch's callbacks (pod_watch_callbacks, ctx: the selection). */
void pod_selection__pod_event(void *ctx, enum pod_event event, const struct k8s_pod *pod,
			      const struct k8s_pod *old);
void pod_selection__synced(void *ctx);
/* A selection_fn (selection.h), ctx: the selection. 1 when pid's pod (by
 * the pod uid of its cgroup) passes the filter, 0 when not, with why
 * (pod, namespace, labels, container); -ESRCH when pid is gone. */
int pod_selection__decide(void *ctx, pid_t pid, char *why, size_t why_len);
void pod_selection__free(struct pod_selection *s);

#endif /* SPANPROBE_POD_SELECTION_H */
