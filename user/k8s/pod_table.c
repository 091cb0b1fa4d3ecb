// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A small chained hash of pods by uid (a node runs about a hundred pods). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pod_table.h"

#define POD_BUCKETS 128

struct pod_entry {
	struct k8s_pod *pod;
	unsigned generation;
	struct pod_entry *next;
};

struct pod_table {
	pthread_mutex_t lock;
	struct pod_entry *buckets[POD_BUCKETS];
	size_t count;
};

static unsigned bucket_of(const char *uid)
{
	unsigned h = 2166136261u; /* FNV-1a */

	for (; *uid; uid++)
		h = (h ^ (unsigned char)*uid) * 16777619u;
	return h % POD_BUCKETS;
}

struct pod_table *pod_table__new(void)
{
	struct pod_table *t = calloc(1, sizeof(*t));

	if (t)
		pthread_mutex_init(&t->lock, NULL);
	return t;
}

struct k8s_pod *pod_table__insert(struct pod_table *t, struct k8s_pod *pod, unsigned generation)
{
	struct pod_entry **bucket = &t->buckets[bucket_of(pod->uid)], *e;
	struct k8s_pod *old = NULL;

	pthread_mutex_lock(&t->lock);
	for (e = *bucket; e; e = e->next) {
		if (strcmp(e->pod->uid, pod->uid) == 0)
			break;
	}
	if (e) {
		old = e->pod;
	} else {
		e = calloc(1, sizeof(*e));
		if (!e) {
			/* Out of memory: keep the table as it was, drop the pod. */
			pthread_mutex_unlock(&t->lock);
			k8s_pod__put(pod);
			return NULL;
		}
		e->next = *bucket;
		*bucket = e;
		t->count++;
	}
	e->pod = pod;
	e->generation = generation;
	pthread_mutex_unlock(&t->lock);
	return old;
}

struct k8s_pod *pod_table__remove(struct pod_table *t, const char *uid)
{
	struct pod_entry **link = &t->buckets[bucket_of(uid)], *e;
	struct k8s_pod *pod = NULL;

	pthread_mutex_lock(&t->lock);
	for (; (e = *link) != NULL; link = &e->next) {
		if (strcmp(e->pod->uid, uid) == 0) {
			*link = e->next;
			pod = e->pod;
			free(e);
			t->count--;
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return pod;
}

struct k8s_pod *pod_table__lookup(struct pod_table *t, const char *uid)
{
	struct pod_entry *e;
	struct k8s_pod *pod = NULL;

	if (!t || !uid)
		return NULL;
	pthread_mutex_lock(&t->lock);
	for (e = t->buckets[bucket_of(uid)]; e; e = e->next) {
		if (strcmp(e->pod->uid, uid) == 0) {
			pod = k8s_pod__get(e->pod);
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return pod;
}

void pod_table__sweep(struct pod_table *t, unsigned generation,
		      void (*gone)(void *ctx, struct k8s_pod *pod), void *ctx)
{
	struct pod_entry *removed = NULL, *e, **link;

	pthread_mutex_lock(&t->lock);
	for (int i = 0; i < POD_BUCKETS; i++) {
		for (link = &t->buckets[i]; (e = *link) != NULL;) {
			if (e->generation == generation) {
				link = &e->next;
				continue;
			}
			*link = e->next;
			e->next = removed;
			removed = e;
			t->count--;
		}
	}
	pthread_mutex_unlock(&t->lock);
	/* Outside the lock: gone() may look pods up. */
	while ((e = removed) != NULL) {
		removed = e->next;
		gone(ctx, e->pod);
		free(e);
	}
}

size_t pod_table__count(struct pod_table *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}

void pod_table__free(struct pod_table *t)
{
	struct pod_entry *e, *next;

	if (!t)
		return;
	for (int i = 0; i < POD_BUCKETS; i++) {
		for (e = t->buckets[i]; e; e = next) {
			next = e->next;
			k8s_pod__put(e->pod);
			free(e);
		}
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
}
