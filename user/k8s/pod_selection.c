// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Processes chosen by their pod; see pod_selection.h. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod_cgroup.h"
#include "pod_selection.h"

struct pod_selection {
	struct pod_filter *filter;
	struct pod_watch *watch;
	pthread_mutex_t lock; /* the change callback, set from the main thread */
	void (*changed)(void *ctx);
	void *changed_ctx;
};

struct pod_selection *pod_selection__new(struct pod_filter *filter)
{
	struct pod_selection *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->filter = filter;
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void pod_selection__set_watch(struct pod_selection *s, struct pod_watch *w)
{
	s->watch = w;
}

void pod_selection__on_change(struct pod_selection *s, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&s->lock);
	s->changed = fn;
	s->changed_ctx = ctx;
	pthread_mutex_unlock(&s->lock);
}

static void notify(struct pod_selection *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->changed)
		s->changed(s->changed_ctx);
	pthread_mutex_unlock(&s->lock);
}

/* Same containers with the same runtime ids: a process's container is
 * known (or not) alike in both versions. */
static bool same_containers(const struct k8s_pod *a, const struct k8s_pod *b)
{
	if (a->n_containers != b->n_containers)
		return false;
	for (size_t i = 0; i < a->n_containers; i++)
		if (strcmp(a->containers[i].id, b->containers[i].id) != 0 ||
		    strcmp(a->containers[i].name ?: "", b->containers[i].name ?: "") != 0)
			return false;
	return true;
}

/* A status update of a pod nobody selects (most events on a busy node)
 * changes nothing; a pod that starts or stops matching, or a matching pod
 * whose containers were reported, does. */
void pod_selection__pod_event(void *ctx, enum pod_event event, const struct k8s_pod *pod,
			      const struct k8s_pod *old)
{
	struct pod_selection *s = ctx;
	bool now = pod_filter__may_select(s->filter, pod);

	if (event == POD_UPDATED && old) {
		bool before = pod_filter__may_select(s->filter, old);

		if (before == now && (!now || same_containers(old, pod)))
			return;
	} else if (!now) {
		return;
	}
	notify(s);
}

void pod_selection__synced(void *ctx)
{
	notify(ctx);
}

int pod_selection__decide(void *ctx, pid_t pid, char *why, size_t why_len)
{
	struct pod_selection *s = ctx;
	struct pod_cgroup_ids ids;
	struct k8s_pod *pod;
	bool chosen;
	int err;

	err = pod_cgroup__read(pid, &ids);
	if (err == -ESRCH) {
		snprintf(why, why_len, "gone");
		return -ESRCH;
	}
	if (err == -ENOENT) {
		snprintf(why, why_len, "in no pod (its cgroup is no pod's)");
		return 0;
	}
	if (err == -EINVAL) {
		snprintf(why, why_len, "its cgroups name more than one pod: it belongs to none");
		return 0;
	}
	if (err) {
		snprintf(why, why_len, "its cgroup can't be read (%s)", strerror(-err));
		return 0;
	}
	pod = pod_watch__lookup(s->watch, ids.pod_uid);
	if (!pod) {
		snprintf(why, why_len, "pod %s is not one of this node's pods the API server reported "
			 "(yet)", ids.pod_uid);
		return 0;
	}
	chosen = pod_filter__selects(s->filter, pod, ids.container_id, why, why_len);
	k8s_pod__put(pod);
	return chosen;
}

void pod_selection__free(struct pod_selection *s)
{
	if (!s)
		return;
	pod_filter__free(s->filter);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
