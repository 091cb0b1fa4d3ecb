/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The pods of one node, kept current from the Kubernetes API server on a
 * thread of their own: list (fieldSelector=spec.nodeName=NODE), then watch
 * from the list's resourceVersion with bookmarks; a watch that ends is
 * resumed from the last version seen; 410 Gone (that version is no longer
 * kept) re-lists and reports what changed meanwhile; failures are retried
 * with exponential backoff. Other threads look pods up by uid without
 * waiting for the network. */
#ifndef SPANPROBE_POD_WATCH_H
#define SPANPROBE_POD_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "k8s_pod.h"
#include "kube_config.h"

enum pod_event {
	POD_ADDED,   /* new on the node (or first seen in a list) */
	POD_UPDATED, /* labels, phase, container ids... changed */
	POD_DELETED, /* gone from the API (or from a re-list) */
};

/* All run on the watch thread, with no lock held: they may call
 * pod_watch__lookup, must not call pod_watch__stop, and should not block
 * for long (events wait meanwhile). Any may be NULL. */
struct pod_watch_callbacks {
	/* pod: the new version (the last one for POD_DELETED); old: the
	 * version it replaces (POD_UPDATED only, else NULL). Both are valid
	 * during the call; keep one with k8s_pod__get. */
	void (*on_pod)(void *ctx, enum pod_event event, const struct k8s_pod *pod,
		       const struct k8s_pod *old);
	/* After each complete list: the table holds every pod of the node. */
	void (*on_synced)(void *ctx);
	/* One line naming the cause and the fix, when a request fails
	 * (repeats of the same message are not reported again). */
	void (*on_error)(void *ctx, const char *message);
	void *ctx;
};

struct pod_watch_opts {
	const struct kube_config *kube; /* copied */
	const char *node_name;          /* spec.nodeName of the pods to watch */
	unsigned watch_timeout_s;       /* asked of the server per watch; 0: 300 */
	unsigned backoff_min_ms;        /* first retry delay; 0: 500 */
	unsigned backoff_max_ms;        /* 0: 30000 */
	struct pod_watch_callbacks cb;
};

struct pod_watch;

struct pod_watch_stats {
	unsigned long lists;    /* complete lists (the first and every re-list) */
	unsigned long watches;  /* watch requests the server accepted */
	unsigned long expired;  /* 410 Gone: re-lists forced by an old version */
	unsigned long errors;   /* failed requests */
	unsigned long events;   /* ADDED/MODIFIED/DELETED received */
	unsigned long bookmarks; /* BOOKMARKs: the version moved, nothing of ours changed */
	size_t pods;            /* pods in the table now */
	bool synced;            /* a list has completed */
};

/* Starts the thread. -EINVAL for an empty node name or a bad config. */
int pod_watch__start(const struct pod_watch_opts *opts, struct pod_watch **out);
/* A reference to the pod with this uid (k8s_pod__put it), or NULL when the
 * node has no such pod (or the first list has not completed). */
struct k8s_pod *pod_watch__lookup(struct pod_watch *w, const char *uid);
/* Waits until the first list completed: 0, or -ETIMEDOUT after timeout_ms
 * (the last error, if any, in err). */
int pod_watch__wait_synced(struct pod_watch *w, unsigned timeout_ms, char *err, size_t err_len);
void pod_watch__stats(struct pod_watch *w, struct pod_watch_stats *out);
/* Stops the thread (within one poll, even in the middle of a request) and
 * frees everything. NULL-safe. */
void pod_watch__stop(struct pod_watch *w);

#endif /* SPANPROBE_POD_WATCH_H */
