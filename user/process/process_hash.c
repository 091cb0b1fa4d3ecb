// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "process_hash.h"

#define FIRST_BUCKETS 256

static size_t bucket_of(size_t nbuckets, pid_t pid)
{
	return (uint32_t)pid & (nbuckets - 1);
}

int process_hash__init(struct process_hash *h)
{
	*h = (struct process_hash){ .buckets = calloc(FIRST_BUCKETS, sizeof(*h->buckets)) };
	if (!h->buckets)
		return -ENOMEM;
	h->nbuckets = FIRST_BUCKETS;
	return 0;
}

struct process_link *process_hash__find(const struct process_hash *h, pid_t pid)
{
	struct process_link *l;

	if (!h->buckets)
		return NULL;
	for (l = h->buckets[bucket_of(h->nbuckets, pid)]; l; l = l->next)
		if (l->key.pid == pid)
			return l;
	return NULL;
}

static void grow(struct process_hash *h)
{
	size_t n = 2 * h->nbuckets;
	struct process_link **grown = calloc(n, sizeof(*grown));

	if (!grown)
		return; /* longer chains, still right */
	for (size_t i = 0; i < h->nbuckets; i++) {
		struct process_link *l, *next;

		for (l = h->buckets[i]; l; l = next) {
			size_t b = bucket_of(n, l->key.pid);

			next = l->next;
			l->next = grown[b];
			grown[b] = l;
		}
	}
	free(h->buckets);
	h->buckets = grown;
	h->nbuckets = n;
}

void process_hash__add(struct process_hash *h, struct process_link *l)
{
	struct process_link **bucket;

	if (h->count >= 2 * h->nbuckets)
		grow(h);
	bucket = &h->buckets[bucket_of(h->nbuckets, l->key.pid)];
	l->next = *bucket;
	*bucket = l;
	h->count++;
}

void process_hash__remove(struct process_hash *h, struct process_link *l)
{
	if (!h->buckets)
		return;
	for (struct process_link **link = &h->buckets[bucket_of(h->nbuckets, l->key.pid)]; *link;
	     link = &(*link)->next) {
		if (*link != l)
			continue;
		*link = l->next;
		l->next = NULL;
		h->count--;
		return;
	}
}

static struct process_link *first_from(const struct process_hash *h, size_t bucket)
{
	for (size_t i = bucket; h->buckets && i < h->nbuckets; i++)
		if (h->buckets[i])
			return h->buckets[i];
	return NULL;
}

struct process_link *process_hash__first(const struct process_hash *h)
{
	return first_from(h, 0);
}

struct process_link *process_hash__next(const struct process_hash *h, const struct process_link *l)
{
	return l->next ? l->next : first_from(h, bucket_of(h->nbuckets, l->key.pid) + 1);
}

size_t process_hash__count(const struct process_hash *h)
{
	return h->count;
}

void process_hash__fini(struct process_hash *h)
{
	if (!h)
		return;
	free(h->buckets);
	*h = (struct process_hash){ 0 };
}
